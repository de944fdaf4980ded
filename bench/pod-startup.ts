/**
 * Pod start-up latency and agent footprint.
 *
 *   npx esbuild bench/pod-startup.ts --bundle --platform=node --packages=external --outfile=dist/bench-pod-startup.js \
 *     && node dist/bench-pod-startup.js [--pods 30] [--hollow 1000] [--skip-real] [--skip-hollow] [--agent-only]
 *
 * 1. A real master (in this process, SQLite) and a real `lotse agent` process on podman: RSS idle,
 *    then N pods created one after another (create → Running+Ready, image present), then N at once,
 *    p50/p99 of each, and RSS with N pods running.
 * 2. `lotse agent --hollow-nodes M` in one process: its RSS, and how stale the M Leases get.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Lease } from 'kubernetes-types/coordination/v1';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { KubeClient } from '../kube/client';
import { Informer } from '../kube/informer';
import { core } from '../kube/resource-path';
import { startMaster, type RunningMaster } from '../master/server';
import { ensureTestImage, removeLabelledContainers, startPodmanService, type PodmanService } from '../test/support/podman';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch((err: Error) => {
      if (/exited/.test(err.message)) throw err;
      return undefined;
    });
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The real CLI, bundled with its packages left external, run as its own process. */
async function bundleCli(agentOnly: boolean): Promise<string> {
  const dir = path.join(ROOT, 'node_modules/.cache/lotse-bench');
  fs.mkdirSync(dir, { recursive: true });
  // --agent-only: a CLI that loads just the agent command, to tell the agent's own footprint from
  // what the other commands' modules (master, stacks, etcd client) add when the full CLI loads them all.
  const entry = path.join(dir, 'agent-only.ts');
  fs.writeFileSync(entry, "import { Command } from 'commander';\nimport { registerAgent } from '../../../cli/commands/agent';\nconst p = new Command('lotse');\nregisterAgent(p);\nexport const main = (argv: string[]) => p.parseAsync(argv);\n");
  await run(path.join(ROOT, 'node_modules/.bin/esbuild'), [agentOnly ? entry : path.join(ROOT, 'cli/main.ts'), '--bundle', '--platform=node', '--packages=external', '--log-level=error', `--outfile=${dir}/main.js`]);
  fs.writeFileSync(`${dir}/lotse.js`, "require('./main.js').main(process.argv).catch((e) => { console.error(e.message); process.exit(1); });\n");
  return `${dir}/lotse.js`;
}

function spawnAgent(cli: string, args: string[]): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [cli, 'agent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

async function measureStarts(client: KubeClient, node: string, image: string, names: string[], concurrent: boolean): Promise<number[]> {
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const informer = new Informer<Pod>(client, core('pods', 'default'), { query: { fieldSelector: `spec.nodeName=${node}` } });
  informer.on((type, pod) => {
    const name = pod.metadata?.name ?? '';
    if (type !== 'DELETED' && !running.has(name) && pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) running.set(name, Date.now());
  });
  await informer.start();
  const create = async (name: string): Promise<void> => {
    created.set(name, Date.now());
    await client.create(core('pods', 'default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } } as Pod);
  };
  if (concurrent) await Promise.all(names.map(create));
  else {
    for (const n of names) {
      await create(n);
      await waitFor(`${n} running`, async () => running.has(n), 60_000);
    }
  }
  await waitFor('all pods running', async () => names.every((n) => running.has(n)), 120_000);
  informer.stop();
  return names.map((n) => (running.get(n) as number) - (created.get(n) as number));
}

async function realNode(master: RunningMaster, client: KubeClient, cli: string, dir: string, pods: number): Promise<void> {
  let podman: PodmanService | undefined;
  const node = 'bench-node';
  let agent: ReturnType<typeof spawnAgent> | undefined;
  try {
    podman = await startPodmanService();
    const image = await ensureTestImage();
    agent = spawnAgent(cli, ['--server', master.url, '--token', master.joinToken, '--ca-file', path.join(dir, 'ca.crt'), '--node-name', node, '--data-dir', path.join(dir, 'agent'), '--runtime-endpoint', podman.endpoint, '--kubelet-port', '0', '--address', '127.0.0.1', '--start-concurrency', String(arg('start-concurrency', 3))]);
    await waitFor('node Ready', async () => (await client.get<Node>(core('nodes', undefined, node))).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), 60_000);
    await sleep(5000);
    const idle = rssMb(agent.child.pid as number);
    const seq = await measureStarts(client, node, image, Array.from({ length: pods }, (_, i) => `seq-${i}`), false);
    const withPods = rssMb(agent.child.pid as number);
    for (let i = 0; i < pods; i++) await client.delete(core('pods', 'default', `seq-${i}`));
    await waitFor('pods gone', async () => (await client.list(core('pods', 'default'))).items.length === 0, 120_000);
    const burst = await measureStarts(client, node, image, Array.from({ length: pods }, (_, i) => `burst-${i}`), true);
    await sleep(3000);
    const withPods2 = rssMb(agent.child.pid as number);
    const fmt = (v: number[]): string => `p50 ${percentile(v, 50)} ms, p99 ${percentile(v, 99)} ms, max ${Math.max(...v)} ms`;
    console.log(`pod start-up, ${pods} pods one after another (create → Running+Ready): ${fmt(seq)}`);
    console.log(`pod start-up, ${pods} pods created at once: ${fmt(burst)}`);
    console.log(`agent RSS: idle ${idle} MB, with ${pods} pods ${Math.max(withPods, withPods2)} MB`);
    for (let i = 0; i < pods; i++) await client.delete(core('pods', 'default', `burst-${i}`)).catch(() => undefined);
    await waitFor('pods gone', async () => (await client.list(core('pods', 'default'))).items.length === 0, 120_000).catch(() => undefined);
  } finally {
    await agent?.stop();
    await removeLabelledContainers(`io.lotse.node=${node}`);
    await podman?.stop();
  }
}

async function hollowNodes(master: RunningMaster, client: KubeClient, cli: string, dir: string, count: number): Promise<void> {
  const t0 = Date.now();
  const agent = spawnAgent(cli, ['--server', master.url, '--token', master.joinToken, '--ca-file', path.join(dir, 'ca.crt'), '--node-name', 'hollow', '--data-dir', path.join(dir, 'hollow'), '--hollow-nodes', String(count)]);
  try {
    await waitFor(`${count} hollow nodes`, async () => {
      if (agent.child.exitCode !== null) throw new Error(`the hollow-node agent exited: ${agent.output()}`);
      return /hollow nodes running/.test(agent.output());
    }, 900_000);
    console.log(`${count} hollow nodes joined and registered in ${Math.round((Date.now() - t0) / 1000)} s`);
    let worst = 0;
    let stale = 0;
    let rss = 0;
    for (let i = 0; i < 6; i++) {
      await sleep(5000);
      const leases = await client.list<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' });
      const now = Date.now();
      const ages = leases.items.filter((l) => l.metadata?.name?.startsWith('hollow-')).map((l) => now - Date.parse(l.spec?.renewTime ?? '0'));
      if (ages.length !== count) throw new Error(`expected ${count} hollow leases, found ${ages.length}`);
      worst = Math.max(worst, ...ages);
      stale += ages.filter((a) => a > 40_000).length;
      rss = Math.max(rss, rssMb(agent.child.pid as number));
    }
    console.log(`${count} hollow nodes in one process: RSS ${rss} MB; oldest Lease renewTime over 30 s of sampling ${Math.round(worst / 100) / 10} s (duration 40 s); stale leases seen: ${stale}`);
  } finally {
    await agent.stop();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-bench-pods-'));
  process.env.LOTSE_LOG_LEVEL ??= 'warn';
  const master = await startMaster({ dataDir: path.join(dir, 'master'), listen: '127.0.0.1:0' });
  fs.writeFileSync(path.join(dir, 'ca.crt'), master.caPem);
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  try {
    const cli = await bundleCli(flag('agent-only'));
    console.log(flag('agent-only') ? 'agent process: CLI with only the agent command loaded' : 'agent process: the full lotse CLI');
    if (!flag('skip-real')) await realNode(master, client, cli, dir, arg('pods', 30));
    if (!flag('skip-hollow')) await hollowNodes(master, client, cli, dir, arg('hollow', 1000));
  } finally {
    client.close();
    await master.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
