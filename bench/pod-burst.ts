/**
 * 30 pods at once: lotse against podman itself, in one run.
 *
 *   npx esbuild bench/pod-burst.ts --bundle --platform=node --packages=external --outfile=dist/bench-pod-burst.js \
 *     && node dist/bench-pod-burst.js [--pods 30] [--rounds 2] [--start-concurrency 3] [--base <git rev>]
 *
 * Each round, back to back on one `podman system service`:
 * - lotse: a real master (in this process) and a real `lotse agent` process with LOTSE_TRACE_PODS=1;
 *   N pods (`sleep 3600`, image present) created at once; create → Running+Ready per pod, and the
 *   agent's per-phase timings (agent/start-trace.ts). With --base, the same for the agent
 *   built from that commit (git archive, read-only), so before/after share the machine's mood.
 * - podman: the same N pods as `podman run` pairs — a pause sandbox with its own network namespace,
 *   then the container joined to its network, IPC and UTS namespaces — at the agent's concurrency
 *   and all at once; launch → `podman run -d` of the container returned, per pod.
 * - api: the agent's own engine calls for the same pods (sandbox create/start/inspect, image
 *   inspect, container create/start) straight through the Docker API, at the agent's concurrency:
 *   the floor for what the agent asks of the engine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { KubeClient } from '../kube/client';
import { Informer } from '../kube/informer';
import { core } from '../kube/resource-path';
import { startMaster, type RunningMaster } from '../master/server';
import type Docker from 'dockerode';
import { loadDockerode } from '../agent/runtime/dockerode-loader';
import { PAUSE_IMAGE } from '../agent/runtime/pause-image';
import { ensureTestImage, removeLabelledContainers, startPodmanService, type PodmanService } from '../test/support/podman';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const CACHE = path.join(ROOT, 'node_modules/.cache/lotse-bench-burst');
const BENCH_LABEL = 'io.lotse.bench=burst';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Bundles the agent-only CLI from srcRoot (this tree, or an extracted older commit) into one file. */
async function bundleCli(srcRoot: string, tag: string): Promise<string> {
  fs.mkdirSync(CACHE, { recursive: true });
  const entry = path.join(srcRoot, `bench-agent-only-${tag}.ts`);
  fs.writeFileSync(entry, "import { Command } from 'commander';\nimport { registerAgent } from './cli/commands/agent';\nconst p = new Command('lotse');\nregisterAgent(p);\nexport const main = (argv: string[]) => p.parseAsync(argv);\n");
  try {
    await run(path.join(ROOT, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--packages=external', '--log-level=error', `--outfile=${CACHE}/main-${tag}.js`]);
  } finally {
    fs.rmSync(entry, { force: true });
  }
  const cli = `${CACHE}/lotse-${tag}.js`;
  fs.writeFileSync(cli, `require('./main-${tag}.js').main(process.argv).catch((e) => { console.error(e.message); process.exit(1); });\n`);
  return cli;
}

/** The tree of an older commit, unpacked beside the cache (git archive only reads the repository). */
async function extractCommit(rev: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-burst-base-'));
  await run('sh', ['-c', `git -C '${ROOT}' archive '${rev}' | tar -x -C '${dir}'`]);
  return dir;
}

interface PhaseTrace {
  name: string;
  total: number;
  phases: Record<string, number>;
}

interface AgentProcess {
  traces: PhaseTrace[];
  stop(): Promise<void>;
}

function spawnAgent(cli: string, args: string[]): AgentProcess {
  const child: ChildProcess = spawn(process.execPath, [cli, 'agent', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOTSE_TRACE_PODS: '1' } });
  const traces: PhaseTrace[] = [];
  let rest = '';
  child.stderr?.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('pod-trace ')) traces.push(JSON.parse(l.slice(10)) as PhaseTrace);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    traces,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** N pods created at once through the API; ms from each create to Running+Ready seen by a watch. */
async function lotseBurst(client: KubeClient, node: string, image: string, pods: number): Promise<number[]> {
  const names = Array.from({ length: pods }, (_, i) => `${node}-${i}`);
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const informer = new Informer<Pod>(client, core('pods', 'default'), { query: { fieldSelector: `spec.nodeName=${node}` } });
  informer.on((type, pod) => {
    const name = pod.metadata?.name ?? '';
    const ready = pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (type !== 'DELETED' && ready && !running.has(name)) running.set(name, Date.now());
  });
  await informer.start();
  await Promise.all(names.map(async (name) => {
    created.set(name, Date.now());
    await client.create(core('pods', 'default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } } as Pod);
  }));
  await waitFor('all pods running', async () => names.every((n) => running.has(n)), 180_000);
  informer.stop();
  for (const n of names) await client.delete(core('pods', 'default', n)).catch(() => undefined);
  await waitFor('pods gone', async () => (await client.list<Pod>(core('pods', 'default'), { fieldSelector: `spec.nodeName=${node}` })).items.length === 0, 120_000);
  return names.map((n) => (running.get(n) as number) - (created.get(n) as number));
}

async function lotseRound(master: RunningMaster, client: KubeClient, dir: string, podman: PodmanService, cli: string, node: string, image: string, pods: number): Promise<{ times: number[]; traces: PhaseTrace[] }> {
  const agent = spawnAgent(cli, ['--server', master.url, '--token', master.joinToken, '--ca-file', path.join(dir, 'ca.crt'), '--node-name', node, '--data-dir', path.join(dir, node), '--runtime-endpoint', podman.endpoint, '--kubelet-port', '0', '--address', '127.0.0.1', '--start-concurrency', arg('start-concurrency', '3')]);
  try {
    await waitFor('node Ready', async () => !!(await client.get<Node>(core('nodes', undefined, node))).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), 60_000);
    await sleep(3000);
    const times = await lotseBurst(client, node, image, pods);
    return { times, traces: [...agent.traces] };
  } finally {
    await agent.stop();
    await removeLabelledContainers(`io.lotse.node=${node}`);
  }
}

/** One pod the engine's own way: sandbox (own netns, as the agent's) then the container joined to it. */
async function podmanPod(i: number, image: string): Promise<void> {
  const label = ['--label', BENCH_LABEL];
  const ulimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
  const sandbox = (await run('podman', ['run', '-d', ...label, ...ulimits, '--name', `burst-sandbox-${i}`, '--hostname', `burst-${i}`, '--network', 'bridge', '--ipc', 'shareable', '--entrypoint', '/pause', PAUSE_IMAGE])).stdout.trim();
  const ns = `container:${sandbox}`;
  await run('podman', ['run', '-d', ...label, ...ulimits, '--name', `burst-main-${i}`, '--network', ns, '--ipc', ns, '--uts', ns, image, 'sleep', '3600']);
}

/**
 * One pod through the same Docker API the agent uses, with the agent's engine calls and nothing
 * else: create+start the sandbox, its IP, image check, create+start the container.
 */
async function apiPod(docker: Docker, i: number, image: string): Promise<void> {
  const Labels = { [BENCH_LABEL.split('=')[0]]: 'burst' };
  const Ulimits = [{ Name: 'nofile', Soft: 1024, Hard: 1024 }, { Name: 'nproc', Soft: 1024, Hard: 1024 }];
  const sandbox = await docker.createContainer({ name: `burst-api-sandbox-${i}`, Image: PAUSE_IMAGE, Entrypoint: ['/pause'], Cmd: [], Hostname: `burst-${i}`, Labels, HostConfig: { NetworkMode: 'bridge', Ulimits, RestartPolicy: { Name: 'no' }, IpcMode: 'shareable' } });
  await sandbox.start();
  await sandbox.inspect();
  await docker.getImage(image).inspect();
  const ns = `container:${sandbox.id}`;
  const c = await docker.createContainer({ name: `burst-api-main-${i}`, Image: image, Cmd: ['sleep', '3600'], Labels, HostConfig: { NetworkMode: ns, IpcMode: ns, UTSMode: ns, Ulimits, RestartPolicy: { Name: 'no' } } });
  await c.start();
}

/** N podman pods, `concurrency` at a time; ms from the common launch to each pod's container running. */
async function podmanBurst(image: string, pods: number, concurrency: number, docker?: Docker): Promise<number[]> {
  const t0 = Date.now();
  const times: number[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < pods; i = next++) {
      await (docker ? apiPod(docker, i, image) : podmanPod(i, image));
      times.push(Date.now() - t0);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, pods) }, lane));
  } finally {
    await removeLabelledContainers(BENCH_LABEL);
  }
  return times;
}

const fmt = (v: number[]): string => `p50 ${percentile(v, 50)} ms, p99 ${percentile(v, 99)} ms, max ${Math.max(...v)} ms`;

/** Mean and p50 per phase over the pods' traces, in ms (counts for syncs and status writes). */
function phaseTable(traces: PhaseTrace[]): string {
  const keys = [...new Set(traces.flatMap((t) => Object.keys(t.phases)))].sort();
  const rows = [['total', traces.map((t) => t.total)] as const, ...keys.map((k) => [k, traces.map((t) => t.phases[k] ?? 0)] as const)];
  return rows.map(([k, v]) => `  ${k.padEnd(24)} mean ${Math.round(v.reduce((a, b) => a + b, 0) / Math.max(1, v.length))}  p50 ${percentile(v, 50)}  max ${Math.max(...v)}`).join('\n');
}

async function main(): Promise<void> {
  const pods = Number(arg('pods', '30'));
  const rounds = Number(arg('rounds', '2'));
  const base = arg('base', '');
  const concurrency = Number(arg('start-concurrency', '3'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-bench-burst-'));
  process.env.LOTSE_LOG_LEVEL ??= 'warn';
  const master = await startMaster({ dataDir: path.join(dir, 'master'), listen: '127.0.0.1:0' });
  fs.writeFileSync(path.join(dir, 'ca.crt'), master.caPem);
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const podman = await startPodmanService();
  const baseDir = base ? await extractCommit(base) : undefined;
  const docker = new (loadDockerode())({ socketPath: podman.socketPath });
  try {
    const image = await ensureTestImage();
    const builds: Array<[string, string]> = [['head', await bundleCli(ROOT, 'head')]];
    if (baseDir) builds.unshift([`base ${base}`, await bundleCli(baseDir, 'base')]);
    for (let r = 1; r <= rounds; r++) {
      const results: Array<[string, number[]]> = [];
      for (const [tag, cli] of builds) {
        const { times, traces } = await lotseRound(master, client, dir, podman, cli, `burst-${r}-${tag.split(' ')[0]}`, image, pods);
        results.push([`lotse ${tag}`, times]);
        console.log(`round ${r}, lotse ${tag}, ${pods} pods at once, create → Running+Ready: ${fmt(times)}`);
        if (traces.length) console.log(`  phases (ms per pod over ${traces.length} traced pods):\n${phaseTable(traces)}`);
      }
      for (const c of [concurrency, pods]) {
        const times = await podmanBurst(image, pods, c);
        results.push([`podman@${c}`, times]);
        console.log(`round ${r}, podman run sandbox+container, ${pods} pods, ${c} at a time: ${fmt(times)}`);
      }
      const times = await podmanBurst(image, pods, concurrency, docker);
      results.push([`api@${concurrency}`, times]);
      console.log(`round ${r}, the agent's engine calls alone through the API, ${pods} pods, ${concurrency} at a time: ${fmt(times)}`);
      const [, ref] = results.find(([k]) => k === `podman@${concurrency}`) as [string, number[]];
      for (const [k, v] of results.filter(([name]) => name.startsWith('lotse'))) {
        console.log(`round ${r}, ${k} / podman@${concurrency}: p50 ${(percentile(v, 50) / percentile(ref, 50)).toFixed(2)}x, p99 ${(percentile(v, 99) / percentile(ref, 99)).toFixed(2)}x`);
        console.log(`round ${r}, ${k} / api@${concurrency}: p50 ${(percentile(v, 50) / percentile(times, 50)).toFixed(2)}x, p99 ${(percentile(v, 99) / percentile(times, 99)).toFixed(2)}x`);
      }
    }
  } finally {
    client.close();
    await podman.stop();
    await master.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
