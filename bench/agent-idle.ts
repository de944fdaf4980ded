/**
 * Idle footprint of the real `lotse agent` process (the compiled CLI, as bin/lotse runs it) against
 * a real master, on podman, with no pods: RSS after the node turned Ready and settled, median of runs.
 *
 *   npx esbuild bench/agent-idle.ts --bundle --platform=node --packages=external --outfile=dist/bench-agent-idle.js \
 *     && node dist/bench-agent-idle.js [--runs 5] [--settle 5] [--cli bin/lotse] [--node NODE] [--modules] [--breakdown] [--burst N] [--node-flag FLAG ...] [--env NAME=VALUE ...] [--agent-arg ARG ...]
 *
 * CLI is what runs the agent: bin/lotse (the compiled tree), or the bundle hosts run (lotse.js, as
 * `lotse bootstrap` builds it with payload/lotse-bundle.ts).
 * --modules writes the modules the agent loaded (require.cache at exit) to agent-modules.txt, to see
 * what an idle node carries. --node-flag passes a V8/Node flag to the agent process (e.g.
 * --max-semi-space-size=1), to weigh flags that bin/lotse could set; --agent-arg one to `lotse agent`
 * (e.g. --agent-arg --proxy-mode=none, to tell the service proxy's share). --breakdown prints, per run, the
 * RSS split into file-backed and anonymous pages (/proc/PID/smaps_rollup) and the V8 heap as the agent
 * itself sees it (process.memoryUsage() on SIGUSR2, through a --require hook), to tell code from data.
 * --node runs the agent under that node binary (default: the one running the bench), e.g. the Node 24
 * build the bootstrap ships, while the master stays in the bench's own Node (its SQLite addon is built
 * for that one). Each run also reports the agent's CPU time (/proc/PID/stat): from spawn to Ready, and
 * over the settle time (idle); --burst N then starts N pods at once and reports the burst's wall time,
 * the agent's CPU for it (create to deleted) and the RSS after, so a flag's saving can be set against its cost.
 * --env sets a variable in the agent's environment (e.g. MALLOC_ARENA_MAX=2, glibc's malloc tunables).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node } from 'kubernetes-types/core/v1';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { startMaster } from '../master/server';
import { ensureTestImage, removeLabelledContainers, startPodmanService } from '../test/support/podman';
import { podBurst } from './agent-burst';

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

/** The --env NAME=VALUE pairs, for the agent process only. */
function agentEnv(): Record<string, string> {
  return Object.fromEntries(args('env').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** User plus system CPU time of pid so far, in seconds (/proc/PID/stat counts clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
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

interface RunResult {
  rss: number;
  readyCpu: number;
  idleCpu: number;
  burst?: { wallMs: number; cpu: number; rss: number };
}

interface RunOptions { node: string; cli: string; server: string; token: string; dir: string; endpoint: string; client: KubeClient; settleMs: number; nodeFlags: string[]; hooks: string[]; burst: number; image: string }

async function oneRun(i: number, o: RunOptions): Promise<RunResult> {
  const node = `idle-${i}`;
  const nodeArgs = [...o.nodeFlags, ...o.hooks.flatMap((h) => ['--require', h])];
  const child = spawn(o.node, [...nodeArgs, o.cli, 'agent', '--server', o.server, '--token', o.token, '--ca-file', path.join(o.dir, 'ca.crt'), '--node-name', node, '--data-dir', path.join(o.dir, node), '--runtime-endpoint', o.endpoint, '--kubelet-port', '0', '--address', '127.0.0.1', ...args('agent-arg')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...agentEnv() } });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-5000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const pid = child.pid as number;
  try {
    await waitReady(o.client, node, child, () => out);
    const readyCpu = cpuSeconds(pid);
    await sleep(o.settleMs);
    const rss = rssMb(pid);
    const idleCpu = cpuSeconds(pid) - readyCpu;
    if (process.argv.includes('--breakdown')) console.log(`run ${i}: RSS ${rss} MB: ${await breakdown(pid, path.join(o.dir, 'memory-usage.json'))}`);
    if (o.burst === 0) return { rss, readyCpu, idleCpu };
    const before = cpuSeconds(pid);
    const { wallMs } = await podBurst(o.client, node, o.image, o.burst);
    return { rss, readyCpu, idleCpu, burst: { wallMs, cpu: cpuSeconds(pid) - before, rss: rssMb(pid) } };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    if (o.burst > 0) await removeLabelledContainers(`io.lotse.node=${node}`);
  }
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function summary(results: RunResult[], settleS: number): string {
  const of = (f: (r: RunResult) => number): string => `${round2(median(results.map(f)))} (${results.map((r) => round2(f(r))).join(', ')})`;
  const lines = [`  RSS MB ${of((r) => r.rss)}`, `  CPU s to Ready ${of((r) => r.readyCpu)}`, `  CPU s idle over ${settleS} s ${of((r) => r.idleCpu)}`];
  if (results[0].burst) {
    const b = (f: (x: NonNullable<RunResult['burst']>) => number) => of((r) => f(r.burst as NonNullable<RunResult['burst']>));
    lines.push(`  burst wall ms ${b((x) => x.wallMs)}`, `  burst CPU s ${b((x) => x.cpu)}`, `  RSS MB after the burst ${b((x) => x.rss)}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-bench-agent-idle-'));
  process.env.LOTSE_LOG_LEVEL ??= 'warn';
  const master = await startMaster({ dataDir: path.join(dir, 'master'), listen: '127.0.0.1:0' });
  fs.writeFileSync(path.join(dir, 'ca.crt'), master.caPem);
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const podman = await startPodmanService();
  const runs = Number(arg('runs', '5'));
  const node = arg('node', process.execPath);
  const burst = Number(arg('burst', '0'));
  const image = burst > 0 ? await ensureTestImage() : '';
  const settleS = Number(arg('settle', '5'));
  const cli = path.resolve(arg('cli', path.join(ROOT, 'bin/lotse')));
  const modulesOut = path.join(process.cwd(), 'agent-modules.txt');
  const hook = process.argv.includes('--modules') ? moduleHook(dir, modulesOut) : undefined;
  const hooks = [...(hook ? [hook] : []), ...(process.argv.includes('--breakdown') ? [breakdownHook(dir, path.join(dir, 'memory-usage.json'))] : [])];
  try {
    const results: RunResult[] = [];
    for (let i = 0; i < runs; i++) {
      results.push(await oneRun(i, { node, cli, server: master.url, token: master.joinToken, dir, endpoint: podman.endpoint, client, settleMs: settleS * 1000, nodeFlags: args('node-flag'), hooks, burst, image }));
    }
    const rss = results.map((r) => r.rss);
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    console.log(`agent RSS idle (node ${version} ${[...args('env'), ...args('node-flag'), path.relative(ROOT, cli), ...args('agent-arg')].join(' ')}): median ${median(rss)} MB over ${runs} runs (${rss.join(', ')})`);
    console.log(summary(results, settleS));
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
