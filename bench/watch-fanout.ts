/**
 * Watch fan-out benchmark (issue 20): how the write latency and throughput of a real `lotse
 * master` process change with the number of open watches on the resource written. The watchers
 * run in a forked process of their own (each a plain HTTPS watch counting the bytes and events it
 * gets), so their cost is the master's, not the writer's.
 *   npm run build && npx esbuild bench/watch-fanout.ts bench/master-request-timing.ts --bundle --platform=node --packages=external --outdir=dist/bench \
 *     && node dist/bench/watch-fanout.js [--watchers 0,500,1000,2000] [--writes 200] [--clients 1] [--rate 0] [--store sqlite|etcd] [--lotse CHECKOUT]
 * --master-node EXE runs the master with another node (e.g. a script `exec node --cpu-prof --cpu-prof-dir=DIR "$@"`).
 * --rate R offers R creates/s (open loop) instead of back-to-back creates from --clients writers.
 * --lotse runs the master of another checkout (built with `npm run build`), for a before/after in one session.
 * Prints one JSON line per watcher count, then a markdown table. Each create is timed twice: by
 * the writer (its answer's round trip) and by the master itself (bench/master-request-timing.ts,
 * preloaded into the master: from the API server taking the request to its answer written, as the
 * apiserver's request latency that Kubernetes' SLIs are measured on). The writer's figure also
 * holds its own wait for a core: on 2 cores shared with the watchers' process, a writer woken while
 * the master writes events and the watchers read them waits for one (at 100 watchers, ~2 ms).
 */
import { fork } from 'node:child_process';
import https from 'node:https';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { startEtcd } from '../test/support/etcd';
import { freePort, lotseBin, startMasterProcess } from '../test/support/master-process';

const argOf = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};

interface WatcherReport {
  open: number;
  events: number;
  bytes: number;
  /** ConfigMap name → when the last of the watchers got its event (ms, performance.timeOrigin-based). */
  allDelivered: Record<string, number>;
}

/** Untimed creates before the first round. */
const WARM_UP_CREATES = 200;

const wallMs = (): number => performance.timeOrigin + performance.now();

/** The child: opens N watches on configmaps and reports counts when asked. */
async function watcherChild(): Promise<void> {
  const [url, ca, token, countText] = process.argv.slice(3);
  const count = Number(countText);
  const agent = new https.Agent({ keepAlive: true, maxSockets: Infinity, ca });
  const report: WatcherReport = { open: 0, events: 0, bytes: 0, allDelivered: {} };
  const seen = new Map<string, number>();
  // Native searches, not a loop over bytes: this process shares the two cores with the master.
  const scan = (chunk: Buffer): void => {
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) report.events++;
    const text = chunk.toString('latin1');
    for (let at = text.indexOf('"name":"fanout-'); at >= 0; at = text.indexOf('"name":"fanout-', at + 1)) {
      const name = text.slice(at + 8, text.indexOf('"', at + 8));
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      if (n === count) report.allDelivered[name] = wallMs();
    }
  };
  // From the current resourceVersion: no initial ADDED events for what earlier rounds created.
  const rv = await new Promise<string>((resolve, reject) => {
    https.get(`${url}/api/v1/namespaces/default/configmaps?limit=1`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve((JSON.parse(body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion));
    }).on('error', reject);
  });
  // Opened 100 at a time: thousands of TLS handshakes at once on a busy 2-core machine end in
  // 'socket hang up' for some, which is the bench's problem, not the watch path's.
  const openOne = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const req = https.request(`${url}/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=false&resourceVersion=${rv}`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`watch answered ${res.statusCode}`));
      report.open++;
      resolve();
      res.on('data', (chunk: Buffer) => {
        report.bytes += chunk.length;
        scan(chunk);
      });
    });
    req.on('error', reject);
    req.end();
  });
  for (let opened = 0; opened < count; opened += 100) await Promise.all(Array.from({ length: Math.min(100, count - opened) }, openOne));
  process.send?.({ ready: true });
  process.on('message', () => process.send?.(report));
}

async function measure(client: KubeClient, watchers: number, writes: number, clients: number, rate: number, url: string, ca: string, token: string, round: number, masterTimes: string): Promise<Record<string, number>> {
  writeFileSync(masterTimes, '');
  const child = fork(process.argv[1], ['child', url, ca, token, String(watchers)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`watcher process exited ${code}`)));
  });
  const latencies: number[] = [];
  const answeredAt = new Map<string, number>();
  const started = process.hrtime.bigint();
  const create = async (i: number): Promise<void> => {
    const name = `fanout-${round}-${i}`;
    const t = process.hrtime.bigint();
    await client.create({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { value: 'x'.repeat(200) } } as never);
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    answeredAt.set(name, wallMs());
  };
  if (rate > 0) {
    // Open loop: a create every 1/rate s whether or not the last one was answered (ClusterLoader2's
    // fixed-QPS load), so a slower answer shows as latency, not as fewer writes.
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < writes; i++) {
      const due = Number(started) / 1e6 + (i * 1000) / rate;
      const wait = due - Number(process.hrtime.bigint()) / 1e6;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(create(i));
    }
    await Promise.all(inFlight);
  } else {
    let next = 0;
    await Promise.all(Array.from({ length: clients }, async () => {
      for (let i = next++; i < writes; i = next++) await create(i);
    }));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Let the last events reach every watcher before counting.
  await new Promise((r) => setTimeout(r, 1000));
  const report = await new Promise<WatcherReport>((resolve) => {
    child.once('message', (m) => resolve(m as WatcherReport));
    child.send('report');
  });
  child.kill();
  const q = quantiles(latencies);
  const atMaster = quantiles(readFileSync(masterTimes, 'utf8').split('\n').filter(Boolean).map(Number));
  // Answered → in every watcher: a fan-out that falls behind shows here, not in the writes' latency.
  const lags = watchers > 0 ? quantiles([...answeredAt].flatMap(([name, at]) => (report.allDelivered[name] ? [report.allDelivered[name] - at] : []))) : undefined;
  return {
    watchers,
    creates: writes,
    createsPerSecond: Math.round(writes / seconds),
    p50ms: +q(0.5).toFixed(2),
    p99ms: +q(0.99).toFixed(2),
    masterP50ms: +atMaster(0.5).toFixed(2),
    masterP99ms: +atMaster(0.99).toFixed(2),
    eventsDelivered: report.events,
    mbDelivered: +(report.bytes / 1048576).toFixed(1),
    deliveredToAll: Object.keys(report.allDelivered).length,
    lagP50ms: lags ? +lags(0.5).toFixed(1) : 0,
    lagP99ms: lags ? +lags(0.99).toFixed(1) : 0,
  };
}

function quantiles(xs: number[]): (p: number) => number {
  const sorted = [...xs].sort((a, b) => a - b);
  return (p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

async function main(): Promise<void> {
  const watcherCounts = argOf('watchers', '0,500,1000,2000').split(',').map(Number);
  const writes = Number(argOf('writes', '200'));
  const clients = Number(argOf('clients', '1'));
  const rate = Number(argOf('rate', '0'));
  const store = argOf('store', 'sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-fanout-'));
  const etcd = store === 'etcd' ? await startEtcd() : undefined;
  const checkout = argOf('lotse', '');
  const program = [argOf('master-node', process.execPath), checkout ? join(checkout, 'bin', 'lotse') : lotseBin] as const;
  const masterTimes = join(dir, 'master-request-times');
  const master = await withMasterTiming(masterTimes, async () => startMasterProcess(dir, await freePort(), ['--no-controllers', ...(etcd ? ['--store', `etcd://${etcd.hostPort}`] : [])], program));
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const rows: Record<string, number>[] = [];
  try {
    // The first creates of a fresh master run cold code: without these the first round's p99 was 3-8× the later ones'.
    for (let i = 0; i < WARM_UP_CREATES; i++) await client.create({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `fanout-warm-up-${i}` } } as never);
    for (const [round, watchers] of watcherCounts.entries()) {
      const row = await measure(client, watchers, writes, clients, rate, master.url, master.caPem, master.adminToken, round, masterTimes);
      process.stdout.write(`${JSON.stringify({ store, clients, rate, ...row })}\n`);
      rows.push(row);
    }
  } finally {
    client.close();
    await master.kill();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0];
  process.stdout.write(`\n${rate > 0 ? `${rate} creates/s offered` : `${clients} client(s), back to back`}; ratios against ${base.watchers} watchers\n`);
  process.stdout.write('| watchers | creates/s | writer p50 / p99 | ratio | master p50 / p99 | ratio | events delivered | answered → all watchers p50 / p99 |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  for (const r of rows) {
    process.stdout.write(`| ${r.watchers} | ${r.createsPerSecond} | ${r.p50ms} / ${r.p99ms} ms | ${ratio(r.p50ms, base.p50ms)} / ${ratio(r.p99ms, base.p99ms)} | ${r.masterP50ms} / ${r.masterP99ms} ms | ${ratio(r.masterP50ms, base.masterP50ms)} / ${ratio(r.masterP99ms, base.masterP99ms)} | ${r.eventsDelivered.toLocaleString('en')} | ${r.watchers ? `${r.lagP50ms} / ${r.lagP99ms} ms` : '–'} |\n`);
  }
}

/** Starts the master with bench/master-request-timing.ts preloaded, writing the creates' times to file. */
async function withMasterTiming<T>(file: string, start: () => Promise<T>): Promise<T> {
  const preload = join(__dirname, 'master-request-timing.js');
  if (!existsSync(preload)) throw new Error(`${preload} is missing: bundle bench/master-request-timing.ts beside this bench (the command at the top of bench/watch-fanout.ts)`);
  const set = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(), LOTSE_BENCH_REQUEST_TIMES: file, LOTSE_BENCH_TIMED_REQUEST: 'POST /api/v1/namespaces/default/configmaps' };
  const saved = Object.fromEntries(Object.keys(set).map((name) => [name, process.env[name]]));
  Object.assign(process.env, set);
  try {
    return await start();
  } finally {
    // The watchers' processes are forked later: only the master gets the preload.
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

if (process.argv[2] === 'child') void watcherChild();
else main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
