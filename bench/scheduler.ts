/**
 * Scheduler and controller benchmark.
 *
 *   npx esbuild bench/scheduler.ts --bundle --platform=node --packages=external --outfile=/tmp/bench-scheduler.js \
 *     && NODE_PATH=$PWD/node_modules node /tmp/bench-scheduler.js [--runs 3] [--nodes 1000] [--pods 10000] \
 *     [--store sqlite|etcd] [--binds 64] [--ceiling] [--deployment 1000] [--hollow 1000] [--skip-throughput] [--skip-deployment]
 *
 * The master runs in a child process (the same bundle, role "master") so that the API server and
 * the scheduler each get a core, as they would on a real master with two cores. Throughput: N
 * Nodes (plain objects, Ready) and P pending pods are created first, then the scheduler starts and
 * binds them all; pods bound per second is counted from the first to the last binding. Deployment:
 * hollow nodes (the agent's fake runtime, in a second child process) and the full controller
 * manager; the time from creating a Deployment to all its replicas available.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Binding, Node, Pod } from 'kubernetes-types/core/v1';
import { startHollowNodes, type RunningHollowNodes } from '../agent/hollow/hollow-nodes';
import { KubeClient } from '../kube/client';
import { apps, core } from '../kube/resource-path';
import { startControllerManager } from '../master/controllers/controller-manager';
import { Scheduler } from '../master/scheduler/scheduler';
import { startMaster } from '../master/server';
import { startEtcd, type RunningEtcd } from '../test/support/etcd';

interface MasterInfo {
  url: string;
  caPem: string;
  adminToken: string;
  joinToken: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** Role "master": serve the API from a temp dir and report where. */
async function runMaster(): Promise<void> {
  process.env.LOTSE_LOG_LEVEL ??= 'error';
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-master-'));
  const m = await startMaster({ dataDir, listen: '127.0.0.1:0', store: process.env.BENCH_STORE || undefined });
  process.send?.({ url: m.url, caPem: m.caPem, adminToken: m.adminToken, joinToken: m.joinToken });
  process.on('disconnect', () => {
    void m.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

/**
 * Role "hollow": run hollow nodes against the master named in the environment, joined in batches
 * of 100, a batch retried when a join request fails (a reset connection under load should not
 * cost the whole run).
 */
async function runHollow(): Promise<void> {
  const info = JSON.parse(process.env.BENCH_MASTER ?? '{}') as MasterInfo;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-hollow-'));
  const total = Number(process.env.BENCH_HOLLOW);
  const batches: RunningHollowNodes[] = [];
  for (let b = 0; b * 100 < total; b++) {
    for (let attempt = 1; ; attempt++) {
      try {
        batches.push(await startHollowNodes({ server: info.url, caPem: info.caPem, token: info.joinToken, count: Math.min(100, total - b * 100), namePrefix: `hollow-${b}`, dataDir, concurrency: 8 }));
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        console.error(`  hollow batch ${b}: ${(err as Error).message}; retrying`);
      }
    }
  }
  process.send?.({ ready: true });
  process.on('disconnect', () => {
    void Promise.all(batches.map((h) => h.stop())).finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

function child<T>(role: string, env: Record<string, string>): Promise<{ proc: ChildProcess; msg: T }> {
  const proc = fork(process.argv[1], [], { env: { ...process.env, BENCH_ROLE: role, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('message', (msg) => resolve({ proc, msg: msg as T }));
    proc.once('exit', (code) => reject(new Error(`${role} process exited with ${code} before it was ready`)));
  });
}

async function stopChild(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.disconnect();
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function withMaster<T>(store: string, fn: (info: MasterInfo, client: KubeClient) => Promise<T>): Promise<T> {
  let etcd: RunningEtcd | undefined;
  if (store === 'etcd') etcd = await startEtcd({ onDisk: true });
  const { proc, msg } = await child<MasterInfo>('master', { BENCH_STORE: etcd ? `etcd://${etcd.hostPort}` : '' });
  const client = new KubeClient({ server: msg.url, ca: msg.caPem, token: msg.adminToken, timeoutMs: 120_000 });
  try {
    return await fn(msg, client);
  } finally {
    client.close();
    await stopChild(proc);
    await etcd?.stop();
  }
}

function node(name: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() }],
    },
  };
}

function pod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: 'default', labels: { app: 'bench' } },
    spec: { containers: [{ name: 'c', image: 'bench:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

async function createNodesAndPods(client: KubeClient, nodes: number, pods: number): Promise<void> {
  await forEachLimited(Array.from({ length: nodes }, (_, i) => `node-${i}`), 32, async (n) => {
    const created = await client.create<Node>(core('nodes'), node(n));
    // Status is a subresource: the create drops it, so write it separately.
    await client.update(core('nodes', undefined, n, 'status'), { ...created, status: node(n).status } as Node);
  });
  await forEachLimited(Array.from({ length: pods }, (_, i) => i), 32, async (i) => {
    await client.create(core('pods', 'default'), pod(i));
  });
}

/** The API's own ceiling: the same bindings, round-robin, 64 in flight, with no scheduler at all. */
async function bindingCeilingRun(store: string, nodes: number, pods: number): Promise<number> {
  return withMaster(store, async (_info, client) => {
    await createNodesAndPods(client, nodes, pods);
    const start = Date.now();
    await forEachLimited(Array.from({ length: pods }, (_, i) => i), 64, async (i) => {
      await client.create(core('pods', 'default', `bench-${i}`, 'binding'), { apiVersion: 'v1', kind: 'Binding', metadata: { name: `bench-${i}` }, target: { kind: 'Node', name: `node-${i % nodes}` } } as Binding);
    });
    return (pods * 1000) / (Date.now() - start);
  });
}

async function throughputRun(store: string, nodes: number, pods: number): Promise<number> {
  return withMaster(store, async (_info, client) => {
    const t0 = Date.now();
    await createNodesAndPods(client, nodes, pods);
    console.log(`  ${nodes} nodes and ${pods} pending pods created in ${Date.now() - t0} ms; starting the scheduler`);
    let scheduler: Scheduler | undefined;
    const start = Date.now();
    const cpu0 = process.cpuUsage();
    const cm = await startControllerManager({ client, identity: 'bench', controllers: ['scheduler'], scheduler: { maxBindsInFlight: Number(arg('binds', '64')) }, onScheduler: (s) => (scheduler = s) });
    const synced = Date.now();
    let last = 0;
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        const bound = scheduler?.stats.bound ?? 0;
        if (bound >= pods) {
          last = Date.now();
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    const cpu = process.cpuUsage(cpu0);
    await cm.stop();
    const rate = (pods * 1000) / (last - synced);
    console.log(`  scheduler process CPU while binding: ${Math.round((cpu.user + cpu.system) / 1000)} ms in ${last - start} ms`);
    console.log(`  informers synced in ${synced - start} ms; ${pods} pods bound in ${last - synced} ms: ${Math.round(rate)} pods/s (errors: ${scheduler?.stats.bindErrors}, failed attempts: ${scheduler?.stats.failed})`);
    return rate;
  });
}

/** One master and one set of hollow nodes; each run creates a Deployment, waits, and deletes it again. */
async function deploymentRuns(store: string, hollow: number, replicas: number, runs: number): Promise<number[]> {
  return withMaster(store, async (info, client) => {
    const t0 = Date.now();
    const h = await child<{ ready: boolean }>('hollow', { BENCH_MASTER: JSON.stringify(info), BENCH_HOLLOW: String(hollow) });
    console.log(`  ${hollow} hollow nodes joined in ${Date.now() - t0} ms`);
    const cm = await startControllerManager({ client, identity: 'bench' });
    const times: number[] = [];
    try {
      for (let r = 0; r < runs; r++) {
        const name = `big-${r}`;
        const start = Date.now();
        await client.create(apps('deployments', 'default'), {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, namespace: 'default' },
          spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'big:1' }] } } },
        } as Deployment);
        for (;;) {
          const d = await client.get<Deployment>(apps('deployments', 'default', name));
          if ((d.status?.availableReplicas ?? 0) >= replicas) break;
          await new Promise((res) => setTimeout(res, 100));
        }
        const ms = Date.now() - start;
        const running = (await client.list<Pod>(core('pods', 'default'), { labelSelector: `app=${name}`, fieldSelector: 'status.phase=Running' })).items.length;
        console.log(`  run ${r + 1}/${runs}: ${replicas}-replica Deployment available in ${ms} ms (${running} pods Running)`);
        times.push(ms);
        await client.delete(apps('deployments', 'default', name));
        for (;;) {
          if ((await client.list<Pod>(core('pods', 'default'), { labelSelector: `app=${name}` })).items.length === 0) break;
          await new Promise((res) => setTimeout(res, 500));
        }
      }
    } finally {
      await cm.stop();
      await stopChild(h.proc);
    }
    return times;
  });
}

/** Minimal in-memory informer: enough for the scheduler to be fed without an API server. */
class MemoryInformer<T extends Node | Pod> {
  private readonly items = new Map<string, T>();
  private readonly handlers: ((type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T, old?: T) => void)[] = [];
  on(h: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T, old?: T) => void): this {
    this.handlers.push(h);
    return this;
  }
  get(key: string): T | undefined {
    return this.items.get(key);
  }
  list(): T[] {
    return [...this.items.values()];
  }
  put(obj: T): void {
    const key = obj.metadata?.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : String(obj.metadata?.name);
    const old = this.items.get(key);
    this.items.set(key, obj);
    for (const h of this.handlers) h(old ? 'MODIFIED' : 'ADDED', obj, old);
  }
}

/** The scheduling algorithm alone: informers in memory, bindings answered at once. */
async function algorithmRun(nodes: number, pods: number): Promise<number> {
  const nodeInf = new MemoryInformer<Node>();
  const podInf = new MemoryInformer<Pod>();
  const client = { create: async () => ({}) } as unknown as KubeClient;
  const scheduler = new Scheduler({ client, nodes: nodeInf, pods: podInf });
  for (let i = 0; i < nodes; i++) nodeInf.put(node(`node-${i}`));
  for (let i = 0; i < pods; i++) podInf.put({ ...pod(i), metadata: { ...pod(i).metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: `rs-${i % 10}`, controller: true }] } });
  const start = Date.now();
  scheduler.start();
  while (scheduler.stats.bound < pods) await new Promise((r) => setTimeout(r, 1));
  const ms = Date.now() - start;
  await scheduler.stop();
  return (pods * 1000) / ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const runs = Number(arg('runs', '3'));
  const store = arg('store', 'sqlite');
  if (!flag('skip-throughput')) {
    const nodes = Number(arg('nodes', '1000'));
    const pods = Number(arg('pods', '10000'));
    const algo: number[] = [];
    for (let r = 0; r < runs; r++) algo.push(await algorithmRun(nodes, pods));
    console.log(`scheduling algorithm alone (no API), ${nodes} nodes, ${pods} pods: median ${Math.round(median(algo))} pods/s (runs: ${algo.map(Math.round).join(', ')})`);
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) {
      console.log(`throughput run ${r + 1}/${runs} (${store})`);
      rates.push(await throughputRun(store, nodes, pods));
    }
    if (flag('ceiling')) {
      const ceiling = await bindingCeilingRun(store, nodes, pods);
      console.log(`API binding ceiling (bindings without a scheduler, 64 in flight), ${store}: ${Math.round(ceiling)} pods/s`);
    }
    console.log(`scheduler throughput, ${nodes} nodes, ${pods} pods, ${store}: median ${Math.round(median(rates))} pods/s (runs: ${rates.map(Math.round).join(', ')})`);
  }
  if (!flag('skip-deployment')) {
    const replicas = Number(arg('deployment', '1000'));
    const hollow = Number(arg('hollow', '1000'));
    console.log(`deployment runs (${store})`);
    const times = await deploymentRuns(store, hollow, replicas, runs);
    console.log(`${replicas}-replica Deployment on ${hollow} hollow nodes, ${store}: median ${(median(times) / 1000).toFixed(1)} s to all available (runs: ${times.map((t) => (t / 1000).toFixed(1)).join(', ')} s)`);
  }
}

const role = process.env.BENCH_ROLE;
const entry = role === 'master' ? runMaster() : role === 'hollow' ? runHollow() : main();
entry.catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
