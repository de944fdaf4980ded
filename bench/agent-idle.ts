/**
 * Idle footprint of the real `lotse agent` process (the compiled CLI, as bin/lotse runs it) against
 * a real master, on podman, with no pods: RSS after the node turned Ready and settled, median of runs.
 *
 *   npx esbuild bench/agent-idle.ts --bundle --platform=node --packages=external --outfile=dist/bench-agent-idle.js \
 *     && node dist/bench-agent-idle.js [--runs 5] [--settle 5] [--cli bin/lotse] [--modules] [--breakdown] [--node-flag FLAG ...] [--agent-arg ARG ...]
 *
 * CLI is what runs the agent: bin/lotse (the compiled tree), or the bundle hosts run (lotse.js, as
 * `lotse bootstrap` builds it with payload/lotse-bundle.ts).
 * --modules writes the modules the agent loaded (require.cache at exit) to agent-modules.txt, to see
 * what an idle node carries. --node-flag passes a V8/Node flag to the agent process (e.g.
 * --max-semi-space-size=1), to weigh flags that bin/lotse could set; --agent-arg one to `lotse agent`
 * (e.g. --agent-arg --proxy-mode=none, to tell the service proxy's share). --breakdown prints, per run, the
 * RSS split into file-backed and anonymous pages (/proc/PID/smaps_rollup) and the V8 heap as the agent
 * itself sees it (process.memoryUsage() on SIGUSR2, through a --require hook), to tell code from data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node } from 'kubernetes-types/core/v1';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { startMaster } from '../master/server';
import { startPodmanService } from '../test/support/podman';

const ROOT = path.resolve(__dirname, '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function args(name: string): string[] {
  return process.argv.flatMap((a, i) => (a === `--${name}` ? [process.argv[i + 1]] : []));
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A --require hook that lists every loaded module when the process exits. */
function moduleHook(dir: string, out: string): string {
  const hook = path.join(dir, 'list-modules.js');
  fs.writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, Object.keys(require.cache).join('\\n') + '\\n'));\n`);
  return hook;
}

/** A --require hook that writes process.memoryUsage() to OUT on SIGUSR2 (the agent does not use that signal). */
function breakdownHook(dir: string, out: string): string {
  const hook = path.join(dir, 'memory-usage.js');
  fs.writeFileSync(hook, `process.on('SIGUSR2', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.memoryUsage())));\n`);
  return hook;
}

function smapsMb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

/** File-backed vs anonymous RSS, and the agent's own view of its heap, at the moment RSS is taken. */
async function breakdown(pid: number, out: string): Promise<string> {
  const file = smapsMb(pid, 'Rss') - smapsMb(pid, 'Anonymous');
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 50 && !fs.existsSync(out); i++) await sleep(100);
  const mb = (n: number): number => Math.round(n / 104857.6) / 10;
  const u = JSON.parse(fs.readFileSync(out, 'utf8')) as NodeJS.MemoryUsage;
  fs.rmSync(out);
  return `file-backed ${Math.round(file * 10) / 10} MB, anonymous ${smapsMb(pid, 'Anonymous')} MB, heapTotal ${mb(u.heapTotal)} MB, heapUsed ${mb(u.heapUsed)} MB, external ${mb(u.external)} MB`;
}

async function waitReady(client: KubeClient, node: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the agent exited (${child.exitCode}): ${output()}`);
    const n = await client.get<Node>(core('nodes', undefined, node)).catch(() => undefined);
    if (n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`node ${node} not Ready within 60 s: ${output()}`);
    await sleep(200);
  }
}

async function oneRun(i: number, o: { cli: string; server: string; token: string; dir: string; endpoint: string; client: KubeClient; settleMs: number; nodeFlags: string[]; hooks: string[] }): Promise<number> {
  const node = `idle-${i}`;
  const nodeArgs = [...o.nodeFlags, ...o.hooks.flatMap((h) => ['--require', h])];
  const child = spawn(process.execPath, [...nodeArgs, o.cli, 'agent', '--server', o.server, '--token', o.token, '--ca-file', path.join(o.dir, 'ca.crt'), '--node-name', node, '--data-dir', path.join(o.dir, node), '--runtime-endpoint', o.endpoint, '--kubelet-port', '0', '--address', '127.0.0.1', ...args('agent-arg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-5000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await waitReady(o.client, node, child, () => out);
    await sleep(o.settleMs);
    const rss = rssMb(child.pid as number);
    if (process.argv.includes('--breakdown')) console.log(`run ${i}: RSS ${rss} MB: ${await breakdown(child.pid as number, path.join(o.dir, 'memory-usage.json'))}`);
    return rss;
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-bench-agent-idle-'));
  process.env.LOTSE_LOG_LEVEL ??= 'warn';
  const master = await startMaster({ dataDir: path.join(dir, 'master'), listen: '127.0.0.1:0' });
  fs.writeFileSync(path.join(dir, 'ca.crt'), master.caPem);
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const podman = await startPodmanService();
  const runs = Number(arg('runs', '5'));
  const cli = path.resolve(arg('cli', path.join(ROOT, 'bin/lotse')));
  const modulesOut = path.join(process.cwd(), 'agent-modules.txt');
  const hook = process.argv.includes('--modules') ? moduleHook(dir, modulesOut) : undefined;
  const hooks = [...(hook ? [hook] : []), ...(process.argv.includes('--breakdown') ? [breakdownHook(dir, path.join(dir, 'memory-usage.json'))] : [])];
  try {
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      rss.push(await oneRun(i, { cli, server: master.url, token: master.joinToken, dir, endpoint: podman.endpoint, client, settleMs: Number(arg('settle', '5')) * 1000, nodeFlags: args('node-flag'), hooks }));
    }
    console.log(`agent RSS idle (${[...args('node-flag'), path.relative(ROOT, cli), ...args('agent-arg')].join(' ')}): median ${median(rss)} MB over ${runs} runs (${rss.join(', ')})`);
    if (hook) console.log(`modules loaded: ${fs.readFileSync(modulesOut, 'utf8').split('\n').filter(Boolean).length}, listed in ${modulesOut}`);
  } finally {
    client.close();
    await podman.stop();
    await master.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
