/**
 * API server benchmark: a real `lotse master` process (no controllers) on SQLite and on etcd,
 * driven over HTTPS by concurrent clients.
 *   npm run build && npx esbuild bench/api.ts --bundle --platform=node --packages=external --outfile=/tmp/bench-api.js \
 *     && node /tmp/bench-api.js [--pods 10000] [--clients 32] [--watchers 100] [--runs 3]
 * Prints one JSON object per store and run, then a markdown table of medians.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { startEtcd } from '../test/support/etcd';
import { freePort, startMasterProcess, type MasterProcess } from '../test/support/master-process';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const PODS = arg('pods', 10_000);
const CLIENTS = arg('clients', 32);
const WATCHERS = arg('watchers', 100);
const RUNS = arg('runs', 3);
const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };

function pod(i: number): Record<string, unknown> {
  return {
    metadata: { name: `bench-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
    spec: { containers: [{ name: 'web', image: 'localhost/lotse-busybox:test', command: ['httpd', '-f', '-p', '8080'], ports: [{ containerPort: 8080 }], env: [{ name: 'INDEX', value: String(i) }] }] },
  };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs: number[]): number => pct(xs, 50);
const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};

async function closedLoop(client: KubeClient, total: number, clients: number, op: (i: number) => Promise<unknown>): Promise<{ perSec: number; p50: number; p99: number }> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let i = next++; i < total; i = next++) {
      const t = performance.now();
      await op(i);
      lat.push(performance.now() - t);
    }
  }));
  const secs = (performance.now() - start) / 1000;
  return { perSec: Math.round(total / secs), p50: +pct(lat, 50).toFixed(2), p99: +pct(lat, 99).toFixed(2) };
}

/** Writes at a fixed rate regardless of answers, as a steady load would; latency includes queueing. */
async function openLoop(client: KubeClient, rate: number, seconds: number, base: number): Promise<{ p50: number; p99: number }> {
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    pending.push(client.patch({ ...pods, name: `bench-${(base + i) % PODS}` }, 'merge', { metadata: { annotations: { tick: String(i) } } }).then(() => void lat.push(performance.now() - t)));
  }
  await Promise.all(pending);
  return { p50: +pct(lat, 50).toFixed(2), p99: +pct(lat, 99).toFixed(2) };
}

async function watchLatency(m: MasterProcess, client: KubeClient, watchers: number): Promise<{ p50: number; p99: number }> {
  const clientsW = Array.from({ length: 4 }, () => new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken }));
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  const list = await client.list(pods, { limit: 1 });
  const handles = Array.from({ length: watchers }, (_, w) =>
    clientsW[w % 4].watch({ ...pods }, { resourceVersion: list.metadata.resourceVersion, labelSelector: 'probe=yes', allowWatchBookmarks: false }, (e) => {
      const t = sentAt.get(String(e.object.metadata?.name));
      if (t !== undefined && e.type === 'ADDED') lat.push(performance.now() - t);
    }),
  );
  await new Promise((r) => setTimeout(r, 1500));
  for (let i = 0; i < 20; i++) {
    const name = `probe-${i}`;
    sentAt.set(name, performance.now());
    await client.create(pods, { ...pod(i), metadata: { name, labels: { probe: 'yes' } } } as never);
    await new Promise((r) => setTimeout(r, 50));
  }
  const deadline = Date.now() + 10_000;
  while (lat.length < 20 * watchers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  handles.forEach((h) => h.stop());
  clientsW.forEach((c) => c.close());
  return { p50: +pct(lat, 50).toFixed(2), p99: +pct(lat, 99).toFixed(2) };
}

async function runOnce(store: 'sqlite' | 'etcd'): Promise<Record<string, number>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const etcd = store === 'etcd' ? await startEtcd({ onDisk: true }) : undefined;
  const t0 = performance.now();
  const m = await startMasterProcess(dataDir, await freePort(), ['--no-controllers', ...(etcd ? ['--store', `etcd://${etcd.hostPort}`] : [])]);
  const startMs = Math.round(performance.now() - t0);
  const pid = m.child.pid as number;
  await new Promise((r) => setTimeout(r, 1000));
  const idleRss = rssMb(pid);
  const client = new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken });
  let peak = idleRss;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 200);
  try {
    const create = await closedLoop(client, PODS, CLIENTS, (i) => client.create(pods, pod(i) as never));
    const update = await closedLoop(client, Math.min(PODS, 5000), CLIENTS, (i) => client.patch({ ...pods, name: `bench-${i}` }, 'merge', { metadata: { labels: { touched: 'yes' } } }));
    const open500 = await openLoop(client, 500, 5, 0);
    const lists: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const l = await client.list(pods);
      lists.push(performance.now() - t);
      if (l.items.length < PODS) throw new Error(`list returned ${l.items.length} pods, expected ${PODS}`);
    }
    const watch = await watchLatency(m, client, WATCHERS);
    return {
      startMs,
      createPerSec: create.perSec,
      createP50: create.p50,
      createP99: create.p99,
      updatePerSec: update.perSec,
      updateP99: update.p99,
      open500P50: open500.p50,
      open500P99: open500.p99,
      list10kMs: Math.round(median(lists)),
      watchP50: watch.p50,
      watchP99: watch.p99,
      idleRssMb: idleRss,
      peakRssMb: peak,
    };
  } finally {
    clearInterval(sampler);
    client.close();
    await m.kill();
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, number>[]> = { sqlite: [], etcd: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const store of ['sqlite', 'etcd'] as const) {
      const res = await runOnce(store);
      results[store].push(res);
      console.log(JSON.stringify({ store, run: r + 1, ...res }));
    }
  }
  const keys = Object.keys(results.sqlite[0]);
  console.log(`\n| metric (median of ${RUNS}; ${PODS} pods, ${CLIENTS} clients, ${WATCHERS} watchers) | sqlite | etcd |\n| --- | ---: | ---: |`);
  for (const k of keys) console.log(`| ${k} | ${median(results.sqlite.map((x) => x[k]))} | ${median(results.etcd.map((x) => x[k]))} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
