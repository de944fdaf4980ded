/**
 * Store benchmark: SQLite (synchronous=FULL, and NORMAL for comparison) and etcd side by side.
 *
 *   npx esbuild bench/store.ts --bundle --platform=node --packages=external --outfile=/tmp/bench-store.js \
 *     && NODE_PATH=$PWD/node_modules node /tmp/bench-store.js [--runs 3] [--writes 2000] [--quick]
 *
 * Measures, per backend, the median over --runs runs of:
 * - closed-loop single-object writes (create then update) from N concurrent async clients:
 *   throughput and p50/p99 latency;
 * - open-loop writes at a fixed 500 writes/s: p50/p99 latency (the SLO target);
 * - listing 10,000 ~1 KB pod-like objects under one prefix;
 * - watch delivery latency from the write call to each of 100 watchers.
 * etcd runs from /usr/bin/etcd with its data on the real disk, like the SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { EtcdStore } from '../master/store/etcd-store';
import { SqliteStore } from '../master/store/sqlite-store';
import { Store } from '../master/store/store';
import { RunningEtcd, startEtcd } from '../test/support/etcd';

interface Args {
  runs: number;
  writes: number;
  listObjects: number;
  watchers: number;
  watchWrites: number;
  concurrency: number[];
}

interface Backend {
  name: string;
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

type Row = Record<string, string | number>;

function parseArgs(argv: string[]): Args {
  const value = (flag: string, fallback: number): number => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const quick = argv.includes('--quick');
  return {
    runs: value('--runs', quick ? 1 : 3),
    writes: value('--writes', quick ? 400 : 2000),
    listObjects: value('--list-objects', quick ? 2000 : 10_000),
    watchers: value('--watchers', 100),
    watchWrites: value('--watch-writes', quick ? 100 : 300),
    concurrency: [1, 16, 64],
  };
}

/** A pod as the API server would store it, about 1 KB of JSON. */
function podObject(name: string, i: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `5f0c3a4e-${String(i).padStart(4, '0')}-4d0b-9c51-7e5d2b9a${String(i % 10000).padStart(4, '0')}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '6d4cf56db6' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-6d4cf56db6', uid: 'a1b2c3d4', controller: true }],
    },
    spec: {
      nodeName: `node-${i % 50}`,
      containers: [
        {
          name: 'web',
          image: 'registry.local/web:1.25.3',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
          env: [{ name: 'MODE', value: 'production' }],
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
    },
    status: {
      phase: 'Running',
      podIP: `10.244.${i % 250}.${i % 200}`,
      hostIP: '192.0.2.10',
      startTime: '2026-01-01T00:00:01Z',
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:05Z' },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' },
      ],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:02Z' } } }],
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** Closed loop: `clients` tasks share `total` writes (each a create then an update of one key). */
async function closedLoopWrites(store: Store, prefix: string, total: number, clients: number) {
  const latencies: number[] = [];
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < total) {
      const i = next;
      next += 2;
      const key = `${prefix}${i}`;
      const value = podObject(`pod-${i}`, i);
      let t = process.hrtime.bigint();
      const rev = await store.create(key, value);
      latencies.push(ms(t));
      t = process.hrtime.bigint();
      await store.update(key, { ...value, status: { phase: 'Succeeded' } }, rev);
      latencies.push(ms(t));
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = ms(start) / 1000;
  latencies.sort((a, b) => a - b);
  return { throughput: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * Open loop: one write every 1000/rate ms regardless of completions, for `total` writes; with the
 * share of the time the event loop was busy (the store's commits and flushes held everything
 * else of a master for that long) and how late a 1 ms-resolution timer ran.
 */
async function openLoopWrites(store: Store, prefix: string, total: number, rate: number) {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const utilization = performance.eventLoopUtilization();
  const start = process.hrtime.bigint();
  for (let i = 0; i < total; i += 1) {
    const due = (i * 1000) / rate;
    const wait = due - ms(start);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const t = process.hrtime.bigint();
    pending.push(store.create(`${prefix}${i}`, podObject(`pod-${i}`, i)).then(() => void latencies.push(ms(t))));
  }
  await Promise.all(pending);
  const achieved = total / (ms(start) / 1000);
  const busy = performance.eventLoopUtilization(utilization).utilization * 100;
  delay.disable();
  latencies.sort((a, b) => a - b);
  return { achieved, p50: percentile(latencies, 50), p99: percentile(latencies, 99), busy, lateP99: delay.percentile(99) / 1e6 };
}

async function fill(store: Store, prefix: string, count: number): Promise<void> {
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await store.create(`${prefix}pod-${String(i).padStart(6, '0')}`, podObject(`pod-${i}`, i));
    }
  };
  await Promise.all(Array.from({ length: 64 }, client));
}

async function listLatency(store: Store, prefix: string, expected: number): Promise<number> {
  const t = process.hrtime.bigint();
  const result = await store.list(prefix);
  const elapsed = ms(t);
  if (result.items.length !== expected) throw new Error(`listed ${result.items.length} objects, expected ${expected}`);
  return elapsed;
}

/** Paced writes (about 200/s) with `watchers` watches on the prefix; latency from write call to each delivery. */
async function watchLatency(store: Store, prefix: string, watchers: number, writes: number) {
  const from = await store.revision();
  const sentAt = new Map<string, bigint>();
  const latencies: number[] = [];
  let delivered = 0;
  let done: () => void = () => undefined;
  const allDelivered = new Promise<void>((resolve) => (done = resolve));
  const handles = Array.from({ length: watchers }, () =>
    store.watch(prefix, from, {
      onEvent: (event) => {
        const t = sentAt.get(event.key);
        if (t !== undefined) latencies.push(ms(t));
        delivered += 1;
        if (delivered === watchers * writes) done();
      },
      onError: (err) => {
        throw err;
      },
    }),
  );
  // Let etcd register the watchers before timing starts.
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (let i = 0; i < writes; i += 1) {
    const key = `${prefix}${i}`;
    sentAt.set(key, process.hrtime.bigint());
    await store.create(key, podObject(`pod-${i}`, i));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.race([allDelivered, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${delivered} of ${watchers * writes} deliveries in 30 s`)), 30_000))]);
  for (const handle of handles) handle.stop();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function benchBackend(backend: Backend, args: Args): Promise<Row> {
  const runs: Row[] = [];
  for (let run = 0; run < args.runs; run += 1) {
    const store = await backend.open();
    const row: Row = {};
    try {
      for (const clients of args.concurrency) {
        const w = await closedLoopWrites(store, `/bench/${run}/w${clients}/`, args.writes, clients);
        row[`writes/s c=${clients}`] = w.throughput;
        row[`p50 ms c=${clients}`] = w.p50;
        row[`p99 ms c=${clients}`] = w.p99;
      }
      const open = await openLoopWrites(store, `/bench/${run}/open/`, 2500, 500);
      row['open-loop writes/s'] = open.achieved;
      row['open-loop p50 ms'] = open.p50;
      row['open-loop p99 ms'] = open.p99;
      row['open-loop event loop busy %'] = open.busy;
      row['open-loop timer late p99 ms'] = open.lateP99;
      await fill(store, `/bench/${run}/list/`, args.listObjects);
      const lists: number[] = [];
      for (let i = 0; i < 5; i += 1) lists.push(await listLatency(store, `/bench/${run}/list/`, args.listObjects));
      row[`list ${args.listObjects} ms`] = median(lists);
      const watch = await watchLatency(store, `/bench/${run}/watch/`, args.watchers, args.watchWrites);
      row[`watch p50 ms (${args.watchers} watchers)`] = watch.p50;
      row[`watch p99 ms (${args.watchers} watchers)`] = watch.p99;
    } finally {
      await store.close();
    }
    runs.push(row);
    process.stderr.write(`${backend.name} run ${run + 1}/${args.runs} done\n`);
  }
  const result: Row = { backend: backend.name };
  for (const metric of Object.keys(runs[0])) result[metric] = median(runs.map((row) => Number(row[metric])));
  return result;
}

function sqliteBackend(synchronous: 'FULL' | 'NORMAL'): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-sqlite-'));
  let n = 0;
  return {
    name: `sqlite (${synchronous})`,
    open: async () => new SqliteStore(join(dir, `bench-${n++}.db`), { synchronous }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function etcdBackend(): Promise<Backend> {
  const etcd: RunningEtcd = await startEtcd({ onDisk: true });
  let n = 0;
  return {
    name: 'etcd 3.4',
    open: async () => new EtcdStore({ endpoints: [etcd.endpoint], keyPrefix: `/run-${n++}` }),
    cleanup: () => etcd.stop(),
  };
}

function printTable(rows: Row[]): void {
  const metrics = Object.keys(rows[0]).filter((key) => key !== 'backend');
  const header = `| metric | ${rows.map((row) => row.backend).join(' | ')} |`;
  const lines = [header, `|---|${rows.map(() => '---:').join('|')}|`];
  for (const metric of metrics) {
    lines.push(`| ${metric} | ${rows.map((row) => Number(row[metric]).toFixed(metric.includes('/s') ? 0 : 2)).join(' | ')} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backends = [sqliteBackend('FULL'), sqliteBackend('NORMAL'), await etcdBackend()];
  const rows: Row[] = [];
  try {
    for (const backend of backends) rows.push(await benchBackend(backend, args));
  } finally {
    await Promise.all(backends.map((backend) => backend.cleanup()));
  }
  process.stdout.write(`store benchmark, median of ${args.runs} run(s), ${args.writes} writes per closed-loop point\n`);
  printTable(rows);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/store failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
