/**
 * Density benchmark (issue 20), kubemark style: the master under the traffic of many hollow nodes
 * and many pods, measured by Kubernetes' SLIs. Run by hand, not in CI:
 *
 *   npx esbuild bench/density.ts --bundle --platform=node --packages=external --outfile=bench/.out/density.js \
 *     && node bench/.out/density.js [--store sqlite,etcd] [--nodes 5000] [--pods 150000] [--hollow-procs 2] \
 *        [--create-concurrency 32] [--create-rate 0] [--binds-in-flight 0] [--latency-pods 300] [--latency-rate 10] [--steady 60] [--timeout-min 40] [--cpu-prof] [--heap-profile] [--master-node-flags 'FLAGS'|none] [--master-node PATH]
 *
 * Processes: the master (`startMaster` with the controller manager, as `lotse master` runs it) in
 * one child; the hollow nodes (agent/hollow: the agent's real lease, node status, pod worker and
 * status-manager code over the fake runtime) in --hollow-procs other children; this process
 * creates the pods, watches them and probes lists. Per store:
 *   1. the nodes join and report Ready; then the master's latency figures are reset;
 *   2. saturation: --pods pods, round-robin over namespaces of 3,000 pods, --create-concurrency in flight;
 *      with --create-rate R, creates start 1/R s apart, never catching up in a burst (ClusterLoader2
 *      paces its saturation pods so; 0, the default, creates as fast as the master answers);
 *      --binds-in-flight sets the scheduler's bound on binding requests in flight (0: its default);
 *   3. latency: --latency-pods more at --latency-rate per second into the full cluster (ClusterLoader2's
 *      "latency pods": their start-up is the SLI, the saturation pods' start-up is mostly queueing);
 *   4. --steady seconds with every pod Running (leases and node status only).
 * Figures: mutating call latency p99 per verb/resource and read-only list latency by scope, timed
 * in the master around ApiServer.serve (watches excluded, as apiserver_request_duration_seconds),
 * and without the wait for a max-in-flight slot (as apiserver_request_sli_duration_seconds);
 * pod start-up (create sent → Running seen on a watch here); watch lag (create answered → ADDED
 * event here, and create sent → event); master peak RSS (VmHWM) and CPU seconds from /proc; the
 * oldest node Lease seen by the hollow nodes (a late renewal means the master could not keep up).
 * --cpu-prof profiles the master and the first hollow process over the pod phases (through
 * node:inspector, 5 ms sampling) into bench/.out/density-STORE-NODES-PODS[-hollow0].cpuprofile and
 * prints where their time went, by module and function. Pods deleted before they ran (evicted from
 * nodes the master found NotReady) are counted and reported, not waited for.
 * --heap-profile samples the master's allocations from the pod phases on (V8's sampling heap
 * profiler) and, before the final list of every pod, writes what is still live by allocation
 * stack to bench/.out/density-STORE-NODES-PODS.heapprofile and prints its largest sites.
 * The master's process runs with the Node.js flags `lotse master` gets everywhere
 * (cluster/master-node-flags.ts); --master-node-flags replaces them ('none': V8's defaults).
 * --master-node PATH runs the master's process under that Node.js binary instead of this one's:
 * the hosts' master runs the Node.js build the bootstrap ships (bootstrap/node-build.ts), whose
 * V8 keeps some objects smaller than Node 20's does (bench/RESULTS.md).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fork, type ChildProcess } from 'node:child_process';
import { Session } from 'node:inspector';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1';
import { startHollowNodes } from '../agent/hollow/hollow-nodes';
import { KubeClient } from '../kube/client';
import type { WatchEvent } from '../kube/object';
import { core } from '../kube/resource-path';
import { ApiServer } from '../master/api/api-server';
import { ListCache } from '../master/api/list-cache';
import { Registry } from '../master/api/registry';
import { WatchStream } from '../master/api/watch-stream';
import { masterControllers } from '../master/controllers/master-controllers';
import { Metrics } from '../master/metrics';
import { startMaster } from '../master/server';
import { PrefixMirror } from '../master/store/prefix-mirror';
import { SqliteStore } from '../master/store/sqlite-store';
import { startEtcd, type RunningEtcd } from '../test/support/etcd';
import { MASTER_NODE_FLAGS } from '../cluster/master-node-flags';
import { heapProfileTop, LatencyTable, procFigures, profileTop, type LatencySummary, type ProcFigures } from './density-stats';

interface Options {
  stores: string[];
  nodes: number;
  pods: number;
  hollowProcs: number;
  podsPerNamespace: number;
  createConcurrency: number;
  /** Saturation creates started per second, never in a burst; 0 = as fast as they are answered. */
  createRate: number;
  /** The scheduler's binding requests in flight at once; 0 = its default. */
  bindsInFlight: number;
  latencyPods: number;
  latencyRate: number;
  steadySeconds: number;
  listEverySeconds: number;
  timeoutMin: number;
  cpuProf: boolean;
  heapProfile: boolean;
  /** Node.js flags of the master's process: lotse's own (cluster/master-node-flags.ts) unless --master-node-flags says otherwise. */
  masterNodeFlags: string[];
  /** The Node.js binary of the master's process; undefined: this process's own. */
  masterNode: string | undefined;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function options(): Options {
  return {
    stores: arg('store', 'sqlite,etcd').split(','),
    nodes: Number(arg('nodes', '5000')),
    pods: Number(arg('pods', '150000')),
    hollowProcs: Number(arg('hollow-procs', '2')),
    podsPerNamespace: Number(arg('pods-per-namespace', '3000')),
    createConcurrency: Number(arg('create-concurrency', '32')),
    createRate: Number(arg('create-rate', '0')),
    bindsInFlight: Number(arg('binds-in-flight', '0')),
    latencyPods: Number(arg('latency-pods', '300')),
    latencyRate: Number(arg('latency-rate', '10')),
    steadySeconds: Number(arg('steady', '60')),
    listEverySeconds: Number(arg('list-every', '10')),
    timeoutMin: Number(arg('timeout-min', '40')),
    cpuProf: process.argv.includes('--cpu-prof'),
    heapProfile: process.argv.includes('--heap-profile'),
    masterNodeFlags: process.argv.includes('--master-node-flags') ? arg('master-node-flags', '').split(' ').filter((f) => f && f !== 'none') : [...MASTER_NODE_FLAGS],
    masterNode: process.argv.includes('--master-node') ? arg('master-node', '') : undefined,
  };
}

interface MasterInfo {
  url: string;
  caPem: string;
  adminToken: string;
  joinToken: string;
  /** process.version of the master's process (see --master-node). */
  node: string;
}

/** What a child answers to {type: 'stats'}. */
interface MasterStats {
  calls: Record<string, LatencySummary>;
  /** The same calls without their wait for a max-in-flight slot (the apiserver's SLI latency). */
  sli: Record<string, LatencySummary>;
}

interface HollowStats {
  nodes: number;
  /** The oldest Lease renewal seen at any 5 s check since the last reset, ms. */
  worstLeaseAgeMs: number;
  /** Node-checks that found a Lease older than 20 s (two periods: the master was late). */
  lateLeaseChecks: number;
  leaseChecks: number;
  errors: number;
  firstErrors: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- master child

/**
 * How Kubernetes labels a request for its SLIs: verb, resource[/subresource] and, for lists, the
 * scope. Watches are left out (they are long-running). Non-resource paths (join, discovery) are
 * named by their path.
 */
function classify(method: string, url: string): { key: string; watch: boolean } {
  const [path, query = ''] = url.split('?');
  const watch = /(^|&)watch=(1|true)(&|$)/.test(query);
  const segs = path.split('/').filter(Boolean);
  const rest = segs[0] === 'api' ? segs.slice(2) : segs[0] === 'apis' ? segs.slice(3) : undefined;
  if (!rest || rest.length === 0) return { key: `${method} ${path.startsWith('/lotse/') ? path : '(discovery)'}`, watch };
  let ns: string | undefined;
  let r = rest;
  if (r[0] === 'namespaces' && r.length >= 3) {
    ns = r[1];
    r = r.slice(2);
  }
  const [resource, name, sub] = r;
  const verbs: Record<string, string> = { POST: 'CREATE', PUT: 'UPDATE', PATCH: 'PATCH', DELETE: name ? 'DELETE' : 'DELETECOLLECTION' };
  const verb = method === 'GET' ? (watch ? 'WATCH' : name ? 'GET' : 'LIST') : (verbs[method] ?? method);
  const scope = verb === 'LIST' ? ` (${ns ? 'namespace' : 'cluster'})` : '';
  return { key: `${verb} ${resource}${sub ? `/${sub}` : ''}${scope}`, watch };
}

/**
 * Times every non-watch request the API serves, from its arrival to its answer, as the apiserver's
 * request histogram; and without its wait for a max-in-flight slot, as the apiserver's SLI
 * histogram (apiserver_request_sli_duration_seconds, which leaves out the wait in API Priority and
 * Fairness's queues) that Kubernetes' SLOs are measured on. The wait is the one the master
 * measures and hands its metrics for that request.
 */
function instrumentApi(calls: LatencyTable, sli: LatencyTable): void {
  const waits = new AsyncLocalStorage<{ ms: number }>();
  const request = Metrics.prototype.request;
  Metrics.prototype.request = function (this: Metrics, ...args: Parameters<Metrics['request']>): void {
    const wait = waits.getStore();
    if (wait) wait.ms = (args[4] ?? 0) * 1000;
    request.apply(this, args);
  };
  const serve = ApiServer.prototype.serve;
  ApiServer.prototype.serve = async function (this: ApiServer, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { key, watch } = classify(req.method ?? 'GET', req.url ?? '/');
    if (watch) return serve.call(this, req, res);
    const wait = { ms: 0 };
    const t0 = performance.now();
    // A write's body may arrive turns after its headers: how long the master waited for it.
    if (req.method !== 'GET' && req.method !== 'DELETE') req.once('end', () => calls.add('(request body: headers → end)', performance.now() - t0));
    try {
      await waits.run(wait, () => serve.call(this, req, res));
    } finally {
      const total = performance.now() - t0;
      calls.add(key, total);
      sli.add(key, total - wait.ms);
    }
  };
}

/**
 * Where a watch event waits in the master: how long the oldest line of a watch response waited
 * before it was written (the fan-out's slices), how late a 50 ms timer fires (the event loop's
 * turn), and how long a list waits for the list cache to catch up with the store. Rows of the
 * server table, in parentheses.
 */
function instrumentWatches(calls: LatencyTable): void {
  const flush = WatchStream.prototype.flush;
  WatchStream.prototype.flush = function (this: WatchStream): void {
    if ((this as unknown as { pending?: string[] }).pending) calls.add('(watch line queued → written)', performance.now() - this.queuedAt);
    flush.call(this);
  };
  // A list served from the list cache first waits until the cache has seen the store's revision.
  const mirror = PrefixMirror.prototype as unknown as { caughtUp(): Promise<boolean> };
  const caughtUp = mirror.caughtUp;
  mirror.caughtUp = async function (this: PrefixMirror): Promise<boolean> {
    if (!(this instanceof ListCache)) return caughtUp.call(this);
    const t0 = performance.now();
    try {
      return await caughtUp.call(this);
    } finally {
      calls.add('(list cache: wait to catch up with the store)', performance.now() - t0);
    }
  };
  instrumentStoreWrites(calls);
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    calls.add('(event loop: a 50 ms timer late by)', Math.max(0, now - last - 50));
    last = now;
  }, 50).unref();
  // Whether a late timer is a busy loop: the share of each second the loop spent outside epoll
  // (libuv's own idle time, so the native parts of I/O callbacks count as busy).
  let utilization = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    calls.add('(event loop busy in a 1 s window, %)', performance.eventLoopUtilization(now, utilization).utilization * 100);
    utilization = now;
  }, 1_000).unref();
}

/**
 * Where a write waits in the SQLite store: from its call to its acknowledgement (the group commit
 * runs a turn after the first write queued), and how long one commit of a batch holds the loop;
 * and how often an update started from the list cache's copy had to start again from the store.
 */
function instrumentStoreWrites(calls: LatencyTable): void {
  const store = SqliteStore.prototype as unknown as Record<'create' | 'update', (...args: unknown[]) => Promise<unknown>> & { flush(): void };
  for (const method of ['create', 'update'] as const) {
    const write = store[method];
    store[method] = async function (this: SqliteStore, ...args: unknown[]): Promise<unknown> {
      const t0 = performance.now();
      try {
        return await write.apply(this, args);
      } finally {
        calls.add('(store write: call → acknowledged)', performance.now() - t0);
      }
    };
  }
  // An update tried on the list cache's copy and refused (the copy was stale, or a no-op or a
  // refusal was decided on it) is done again from the store: the count is how often.
  const registry = Registry.prototype as unknown as { updateFromCache(...args: unknown[]): Promise<unknown> };
  const updateFromCache = registry.updateFromCache;
  registry.updateFromCache = async function (this: Registry, ...args: unknown[]): Promise<unknown> {
    const t0 = performance.now();
    const written = await updateFromCache.apply(this, args);
    if (written === undefined) calls.add('(update from the cached copy: refused, done again from the store)', performance.now() - t0);
    return written;
  };
  const flush = store.flush;
  store.flush = function (this: SqliteStore): void {
    const t0 = performance.now();
    flush.call(this);
    calls.add('(store: one group commit, loop held)', performance.now() - t0);
  };
}

/** --binds-in-flight, passed to the master's child: the scheduler's binding requests in flight at once. */
function schedulerTuning(): { scheduler?: { maxBindsInFlight: number } } {
  const binds = Number(process.env.BENCH_BINDS_IN_FLIGHT);
  return binds > 0 ? { scheduler: { maxBindsInFlight: binds } } : {};
}

/** Role "master": the API with the controller manager, as `lotse master` runs, in a temp dir. */
async function runMaster(): Promise<void> {
  process.env.LOTSE_LOG_LEVEL ??= 'error';
  const calls = new LatencyTable();
  const sli = new LatencyTable();
  instrumentApi(calls, sli);
  instrumentWatches(calls);
  const dataDir = mkdtempSync(join(tmpdir(), 'density-master-'));
  const m = await startMaster({ dataDir, listen: '127.0.0.1:0', store: process.env.BENCH_STORE || undefined, controllers: masterControllers(schedulerTuning()) });
  let profiler: Session | undefined;
  let heapProfiler: Session | undefined;
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'reset') {
      calls.clear();
      sli.clear();
    }
    if (msg.type === 'reset' && process.env.BENCH_HEAP_PROFILE) heapProfiler ??= startHeapProfiler();
    if (msg.type === 'heapprofile') void writeHeapProfile(heapProfiler, process.env.BENCH_HEAP_PROFILE ?? '').then(() => process.send?.({ type: 'heapprofile' }));
    // The profile covers the pod phases, as the latency figures do.
    if (msg.type === 'reset' && process.env.BENCH_PROFILE) profiler ??= startProfiler();
    if (msg.type === 'profile') void stopProfiler(profiler, process.env.BENCH_PROFILE ?? '').then(() => process.send?.({ type: 'profile' }));
    if (msg.type === 'stats') process.send?.({ type: 'stats', calls: calls.summaries(), sli: sli.summaries() } satisfies MasterStats & { type: string });
    if (msg.type === 'memory') process.send?.({ type: 'memory', ...process.memoryUsage() });
  });
  process.send?.({ type: 'ready', url: m.url, caPem: m.caPem, adminToken: m.adminToken, joinToken: m.joinToken, node: process.version });
  process.on('disconnect', () => {
    void m.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

/**
 * The master's CPU profile through the inspector, written when the main process asks: --cpu-prof
 * writes only at a clean exit, and a master closing with 100,000s of objects may be killed first.
 */
function startProfiler(): Session {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 5000 });
  session.post('Profiler.start');
  return session;
}

function stopProfiler(session: Session | undefined, file: string): Promise<void> {
  return new Promise((resolve) => {
    if (!session) return resolve();
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
      resolve();
    });
  });
}

/** V8's sampling heap profiler: one sample per 256 KB allocated on average, cheap enough to leave on for a whole run. */
function startHeapProfiler(): Session {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 256 * 1024 });
  return session;
}

/** What of the sampled allocations is still live (V8 drops a sample when its object is collected). */
function writeHeapProfile(session: Session | undefined, file: string): Promise<void> {
  return new Promise((resolve) => {
    if (!session) return resolve();
    session.post('HeapProfiler.collectGarbage', () => {
      session.post('HeapProfiler.getSamplingProfile', (err, result) => {
        if (!err) writeFileSync(file, JSON.stringify(result.profile));
        resolve();
      });
    });
  });
}

// ---------------------------------------------------------------- hollow child

/** Role "hollow": BENCH_NODES hollow nodes in one process, one shared pod watch, as agent/hollow runs them. */
async function runHollow(): Promise<void> {
  const info = JSON.parse(process.env.BENCH_MASTER ?? '{}') as MasterInfo;
  const count = Number(process.env.BENCH_NODES);
  const dataDir = mkdtempSync(join(tmpdir(), 'density-hollow-'));
  const stats: HollowStats = { nodes: count, worstLeaseAgeMs: 0, lateLeaseChecks: 0, leaseChecks: 0, errors: 0, firstErrors: [] };
  const log = (m: string): void => {
    if (!/fail|error|refused|reset|timed out|no answer/i.test(m)) return;
    stats.errors++;
    if (stats.firstErrors.length < 10) stats.firstErrors.push(m.slice(0, 300));
  };
  const h = await startHollowNodes({ server: info.url, caPem: info.caPem, token: info.joinToken, count, namePrefix: process.env.BENCH_PREFIX ?? 'hollow', dataDir, log });
  const check = setInterval(() => checkLeases(h.nodes.map((n) => n.lease.lastRenewed), stats), 5000);
  let profiler: Session | undefined;
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'reset') Object.assign(stats, { worstLeaseAgeMs: 0, lateLeaseChecks: 0, leaseChecks: 0, errors: 0, firstErrors: [] });
    if (msg.type === 'reset' && process.env.BENCH_PROFILE) profiler ??= startProfiler();
    if (msg.type === 'profile') void stopProfiler(profiler, process.env.BENCH_PROFILE ?? '').then(() => process.send?.({ type: 'profile' }));
    if (msg.type === 'stats') process.send?.({ type: 'stats', ...stats });
  });
  process.send?.({ type: 'ready' });
  process.on('disconnect', () => {
    clearInterval(check);
    void h.stop().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

function checkLeases(renewed: number[], stats: HollowStats): void {
  const now = Date.now();
  for (const t of renewed) {
    if (!t) continue;
    const age = now - t;
    stats.leaseChecks++;
    if (age > stats.worstLeaseAgeMs) stats.worstLeaseAgeMs = age;
    if (age > 20_000) stats.lateLeaseChecks++;
  }
}

// ---------------------------------------------------------------- children, from the main process

function child<T>(role: string, env: Record<string, string>, execArgv: string[] = [], execPath?: string): Promise<{ proc: ChildProcess; msg: T }> {
  const proc = fork(process.argv[1], [], { env: { ...process.env, BENCH_ROLE: role, ...env }, execArgv: [...process.execArgv, ...execArgv], execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('message', (msg) => resolve({ proc, msg: msg as T }));
    proc.once('exit', (code) => reject(new Error(`${role} process exited with ${code} before it was ready`)));
  });
}

/** Asks a child for its figures; undefined when it does not answer in time (it may be swamped or gone). */
function ask<T>(proc: ChildProcess, type: string, timeoutMs = 30_000): Promise<T | undefined> {
  if (!proc.connected) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      proc.off('message', on);
      resolve(undefined);
    }, timeoutMs);
    const on = (msg: { type: string }): void => {
      if (msg.type !== type) return;
      clearTimeout(timer);
      proc.off('message', on);
      resolve(msg as T);
    };
    proc.on('message', on);
    proc.send({ type });
  });
}

async function stopChild(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  if (proc.connected) proc.disconnect();
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** etcd's pid, for its RSS and CPU: the process serving the client URL this run started. */
function etcdPid(hostPort: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`--listen-client-urls=http://${hostPort}`)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- pods: creation and watching

interface PodRecord {
  sent: number;
  answered?: number;
  added?: number;
  bound?: number;
  running?: number;
  deleted?: boolean;
  latency: boolean;
}

/** Follows the bench's pods on one watch: when each is first seen and first seen Running. */
class PodTracker {
  readonly pods = new Map<string, PodRecord>();
  readonly startup = { saturation: new LatencyTable(), latency: new LatencyTable() };
  readonly watchLag = new LatencyTable();
  bound = 0;
  running = 0;
  /** Pods deleted before they ran: the node lifecycle controller evicted them from a node it found NotReady. */
  deletedUnrun = 0;
  relists = 0;
  /** Creates answered (or found to exist). */
  created = 0;
  private rv = '';
  private handle?: { stop(): void; done: Promise<void> };
  private stopped = false;

  constructor(private readonly client: KubeClient) {}

  async start(): Promise<void> {
    this.rv = (await this.client.list<Pod>(core('pods'), { labelSelector: 'density=1', limit: 1 })).metadata?.resourceVersion ?? '';
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.handle?.stop();
  }

  sent(key: string, latency: boolean): void {
    this.pods.set(key, { sent: performance.now(), latency });
  }

  answered(key: string): void {
    const r = this.pods.get(key);
    if (!r) return;
    if (r.answered === undefined) this.created++;
    r.answered = performance.now();
    // The event came first: the watcher had it no later than the writer.
    if (r.added !== undefined) this.watchLag.add('create answered → ADDED at watcher', 0);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let gone = false;
      this.handle = this.client.watch<Pod>(core('pods'), { labelSelector: 'density=1', resourceVersion: this.rv }, (e) => this.onEvent(e), (err) => {
        if ((err as { code?: number }).code === 410) gone = true;
      });
      await this.handle.done;
      if (gone && !this.stopped) await this.relist();
      else if (!this.stopped) await sleep(200);
    }
  }

  /** History was compacted away: read every pod again (pages of 500), counting those that run meanwhile. */
  private async relist(): Promise<void> {
    this.relists++;
    let cont: string | undefined;
    do {
      const page = await this.client.list<Pod>(core('pods'), { labelSelector: 'density=1', limit: 500, continue: cont });
      for (const p of page.items) this.observe(p);
      cont = page.metadata?.continue || undefined;
      if (!cont) this.rv = page.metadata?.resourceVersion ?? this.rv;
    } while (cont);
  }

  private onEvent(e: WatchEvent<Pod>): void {
    this.rv = e.object.metadata?.resourceVersion ?? this.rv;
    if (e.type === 'ADDED' || e.type === 'MODIFIED') this.observe(e.object);
    if (e.type === 'DELETED') this.gone(e.object);
  }

  private gone(p: Pod): void {
    const r = this.pods.get(`${p.metadata?.namespace}/${p.metadata?.name}`);
    if (!r || r.running !== undefined || r.deleted) return;
    r.deleted = true;
    this.deletedUnrun++;
  }

  /** Pods that reached their end here: Running, or deleted before that (they will never run). */
  get settled(): number {
    return this.running + this.deletedUnrun;
  }

  private observe(p: Pod): void {
    const r = this.pods.get(`${p.metadata?.namespace}/${p.metadata?.name}`);
    if (!r) return;
    const now = performance.now();
    if (r.added === undefined) {
      r.added = now;
      this.watchLag.add('create sent → ADDED at watcher', now - r.sent);
      if (r.answered !== undefined) this.watchLag.add('create answered → ADDED at watcher', now - r.answered);
    }
    if (r.bound === undefined && p.spec?.nodeName) {
      r.bound = now;
      this.bound++;
      (r.latency ? this.startup.latency : this.startup.saturation).add('create → bound (scheduling)', now - r.sent);
    }
    if (r.running === undefined && p.status?.phase === 'Running') {
      r.running = now;
      this.running++;
      (r.latency ? this.startup.latency : this.startup.saturation).add('pod start-up (create → Running at watcher)', now - r.sent);
    }
  }
}

interface PodName {
  namespace: string;
  name: string;
  latency: boolean;
}

function podObject(p: PodName): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: { density: '1', group: p.latency ? 'latency' : 'saturation' } },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] },
  };
}

/** Creates one pod, retrying what a loaded master may answer (429, 5xx, a reset connection). */
async function createPod(client: KubeClient, tracker: PodTracker, p: PodName, clientSide: LatencyTable, failures: { count: number; last: string }): Promise<void> {
  const key = `${p.namespace}/${p.name}`;
  for (let attempt = 1; ; attempt++) {
    tracker.sent(key, p.latency);
    const t0 = performance.now();
    try {
      await client.create(core('pods', p.namespace), podObject(p));
      clientSide.add('CREATE pods (client side)', performance.now() - t0);
      tracker.answered(key);
      return;
    } catch (err) {
      const code = (err as { code?: number }).code ?? 0;
      if (code === 409) return tracker.answered(key);
      failures.count++;
      failures.last = (err as Error).message.slice(0, 300);
      if (attempt >= 5) return;
      await sleep(500 * attempt);
    }
  }
}

/**
 * At most `limit` calls in flight; with `rate` > 0, calls start at least 1/rate seconds apart, as
 * ClusterLoader2's QPS limiter (burst 1) starts them: calls that fell behind do not catch up in a
 * burst, which would load the master most just when it is slowest.
 */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>, stop: () => boolean = () => false, rate = 0): Promise<void> {
  let next = 0;
  let nextSlot = performance.now();
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !stop()) {
      const item = items[next++];
      if (rate > 0) {
        const now = performance.now();
        const slot = Math.max(nextSlot, now);
        nextSlot = slot + 1000 / rate;
        if (slot > now) await sleep(slot - now);
      }
      await fn(item);
    }
  }));
}

/** One pod every 1/rate seconds, whatever the answers take (an open loop, as ClusterLoader2's latency pods). */
async function createAtRate(items: PodName[], rate: number, fn: (p: PodName) => Promise<void>): Promise<void> {
  const start = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < items.length; i++) {
    const due = start + (i * 1000) / rate - performance.now();
    if (due > 0) await sleep(due);
    all.push(fn(items[i]));
  }
  await Promise.all(all);
}

// ---------------------------------------------------------------- list probes

/** Lists as users and tools make them, every few seconds, timed here (the master times them too). */
class ListProber {
  readonly clientSide = new LatencyTable();
  private stopped = false;
  private done?: Promise<void>;

  constructor(private readonly client: KubeClient, private readonly namespaces: string[], private readonly nodeNames: string[], private readonly everyMs: number) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const ns = this.namespaces[Math.floor(Math.random() * this.namespaces.length)];
      const node = this.nodeNames[Math.floor(Math.random() * this.nodeNames.length)];
      await this.timed('LIST pods (namespace, all of it)', () => this.client.list(core('pods', ns)));
      await this.timed('LIST nodes (cluster, all)', () => this.client.list(core('nodes')));
      await this.timed('LIST pods (cluster, limit=500)', () => this.client.list(core('pods'), { limit: 500 }));
      await this.timed('LIST pods (cluster, spec.nodeName=one node)', () => this.client.list(core('pods'), { fieldSelector: `spec.nodeName=${node}` }));
      await sleep(this.everyMs);
    }
  }

  async timed(key: string, call: () => Promise<unknown>): Promise<void> {
    const t0 = performance.now();
    try {
      await call();
      this.clientSide.add(key, performance.now() - t0);
    } catch {
      this.clientSide.add(`${key} FAILED`, performance.now() - t0);
    }
  }
}

// ---------------------------------------------------------------- one store

interface RunResult {
  store: string;
  nodes: number;
  pods: number;
  completed: boolean;
  note: string;
  joinSeconds: number;
  saturationSeconds: number;
  podsRunning: number;
  /** Pods deleted before they ran (evicted from nodes found NotReady): a failed density run. */
  podsDeletedUnrun: number;
  createFailures: number;
  server: Record<string, LatencySummary>;
  /** server's calls without their wait for a max-in-flight slot. */
  serverSli: Record<string, LatencySummary>;
  client: Record<string, LatencySummary>;
  startupSaturation?: LatencySummary;
  startupLatency?: LatencySummary;
  schedulingSaturation?: LatencySummary;
  schedulingLatency?: LatencySummary;
  watchLag: Record<string, LatencySummary>;
  master?: ProcFigures;
  masterPeakSampledMb: number;
  masterCpuPodPhase: number;
  masterCpuSteadyPerSec: number;
  etcd?: ProcFigures;
  hollow: (HollowStats | undefined)[];
  hollowPeakMb: number[];
  readyNodesAtEnd: number;
  profile?: string;
}

/** Peak RSS seen per process by sampling every second (VmHWM covers the master, this also the hollow children). */
class RssSampler {
  readonly peakMb = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: () => number[]) {
    this.timer = setInterval(() => this.sample(), 1000);
  }

  sample(): void {
    for (const pid of this.pids()) {
      const f = procFigures(pid);
      if (f) this.peakMb.set(pid, Math.max(this.peakMb.get(pid) ?? 0, f.rssMb));
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

async function waitNodesReady(client: KubeClient, want: number, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  let ready = 0;
  while (Date.now() < end) {
    ready = await countReady(client).catch(() => ready);
    if (ready >= want) return ready;
    await sleep(3000);
  }
  return ready;
}

async function countReady(client: KubeClient): Promise<number> {
  const nodes = await client.list<Node>(core('nodes'));
  return nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
}

function podNames(o: Options, namespaces: string[]): { saturation: PodName[]; latency: PodName[] } {
  const saturation = Array.from({ length: o.pods }, (_, i) => ({ namespace: namespaces[i % namespaces.length], name: `p-${i}`, latency: false }));
  const latency = Array.from({ length: o.latencyPods }, (_, i) => ({ namespace: namespaces[i % namespaces.length], name: `lat-${i}`, latency: true }));
  return { saturation, latency };
}

async function runStore(store: string, o: Options): Promise<RunResult> {
  const t0 = Date.now();
  const deadline = t0 + o.timeoutMin * 60_000;
  let etcd: RunningEtcd | undefined;
  if (store === 'etcd') etcd = await startEtcd({ onDisk: true });
  const profile = resolve('bench/.out', `density-${store}-${o.nodes}-${o.pods}.cpuprofile`);
  // The first hollow process is profiled too: where a node's agent spends its time under load.
  const hollowProfile = o.cpuProf ? profile.replace(/\.cpuprofile$/, '-hollow0.cpuprofile') : '';
  const heapProfile = o.heapProfile ? profile.replace(/\.cpuprofile$/, '.heapprofile') : '';
  const { proc: master, msg: info } = await child<MasterInfo>('master', { BENCH_STORE: etcd ? `etcd://${etcd.hostPort}` : '', BENCH_PROFILE: o.cpuProf ? profile : '', BENCH_HEAP_PROFILE: heapProfile, BENCH_BINDS_IN_FLIGHT: String(o.bindsInFlight) }, o.masterNodeFlags, o.masterNode);
  console.log(`${store}: the master runs on Node.js ${info.node} with ${o.masterNodeFlags.join(' ') || "V8's default flags"}`);
  const client = new KubeClient({ server: info.url, ca: info.caPem, token: info.adminToken, timeoutMs: 300_000 });
  const hollows: ChildProcess[] = [];
  const etcdP = etcd ? etcdPid(etcd.hostPort) : undefined;
  const sampler = new RssSampler(() => [master.pid ?? 0, ...hollows.map((h) => h.pid ?? 0)]);
  const result: RunResult = {
    store, nodes: o.nodes, pods: o.pods, completed: false, note: '', joinSeconds: 0, saturationSeconds: 0, podsRunning: 0, podsDeletedUnrun: 0, createFailures: 0,
    server: {}, serverSli: {}, client: {}, watchLag: {}, masterPeakSampledMb: 0, masterCpuPodPhase: 0, masterCpuSteadyPerSec: 0, hollow: [], hollowPeakMb: [], readyNodesAtEnd: 0,
  };
  const tracker = new PodTracker(client);
  let prober: ListProber | undefined;
  try {
    await startNodes(o, info, hollows, result, deadline, hollowProfile);
    const namespaces = await createNamespaces(client, Math.max(1, Math.ceil(o.pods / o.podsPerNamespace)));
    for (const p of [master, ...hollows]) p.send({ type: 'reset' });
    // The pod phases' CPU: this start is subtracted from the figure at the end.
    result.masterCpuPodPhase = procFigures(master.pid ?? 0)?.cpuSeconds ?? 0;
    await tracker.start();
    prober = new ListProber(client, namespaces, Array.from({ length: o.nodes }, (_, i) => nodeName(o, i)), o.listEverySeconds * 1000);
    prober.start();
    await podPhases(o, client, tracker, namespaces, master, hollows, etcdP, deadline, result);
    result.readyNodesAtEnd = await countReady(client).catch(() => -1);
    if (heapProfile && (await ask(master, 'heapprofile', 600_000))) console.log(summarizeHeapProfile(heapProfile));
    await prober.timed('LIST pods (cluster, all of them)', () => client.list(core('pods')));
  } catch (err) {
    result.note = `stopped: ${(err as Error).message}`;
    console.error(`  ${result.note}`);
  } finally {
    await prober?.stop();
    tracker.stop();
    sampler.sample();
    sampler.stop();
    result.master = procFigures(master.pid ?? 0);
    result.masterPeakSampledMb = sampler.peakMb.get(master.pid ?? 0) ?? 0;
    result.etcd = etcdP ? procFigures(etcdP) : undefined;
    const stats = await ask<MasterStats>(master, 'stats', 120_000);
    result.server = stats?.calls ?? {};
    result.serverSli = stats?.sli ?? {};
    if (o.cpuProf) await Promise.all([ask(master, 'profile', 300_000), ...(hollows[0] ? [ask(hollows[0], 'profile', 300_000)] : [])]);
    result.masterCpuPodPhase = (result.master?.cpuSeconds ?? 0) - result.masterCpuPodPhase;
    result.hollow = await Promise.all(hollows.map((h) => ask<HollowStats>(h, 'stats')));
    result.hollowPeakMb = hollows.map((h) => Math.round(sampler.peakMb.get(h.pid ?? 0) ?? 0));
    Object.assign(result.client, prober?.clientSide.summaries());
    result.watchLag = tracker.watchLag.summaries();
    result.startupSaturation = tracker.startup.saturation.get('pod start-up (create → Running at watcher)')?.summary();
    result.startupLatency = tracker.startup.latency.get('pod start-up (create → Running at watcher)')?.summary();
    result.schedulingSaturation = tracker.startup.saturation.get('create → bound (scheduling)')?.summary();
    result.schedulingLatency = tracker.startup.latency.get('create → bound (scheduling)')?.summary();
    result.podsRunning = tracker.running;
    result.podsDeletedUnrun = tracker.deletedUnrun;
    client.close();
    for (const h of hollows) await stopChild(h, 60_000);
    await stopChild(master, 120_000);
    await etcd?.stop();
    if (o.cpuProf) result.profile = [summarizeProfile(profile, 'master'), summarizeProfile(hollowProfile, 'first hollow process')].filter(Boolean).join('\n\n');
  }
  return result;
}

function nodeName(o: Options, i: number): string {
  const per = Math.ceil(o.nodes / o.hollowProcs);
  return `hollow-${Math.floor(i / per)}-${i % per}`;
}

/** The hollow children, started one after the other (each joins its nodes four at a time), then every node Ready. */
async function startNodes(o: Options, info: MasterInfo, hollows: ChildProcess[], result: RunResult, deadline: number, hollowProfile: string): Promise<void> {
  const t = Date.now();
  const per = Math.ceil(o.nodes / o.hollowProcs);
  await Promise.all(Array.from({ length: o.hollowProcs }, async (_, i) => {
    const count = Math.min(per, o.nodes - i * per);
    const { proc } = await child('hollow', { BENCH_MASTER: JSON.stringify(info), BENCH_NODES: String(count), BENCH_PREFIX: `hollow-${i}`, BENCH_PROFILE: i === 0 ? hollowProfile : '' }, ['--max-old-space-size=8192']);
    // By index, not in the order they became ready: hollows[0] is the one that profiles.
    hollows[i] = proc;
  }));
  const client = new KubeClient({ server: info.url, ca: info.caPem, token: info.adminToken, timeoutMs: 300_000 });
  const ready = await waitNodesReady(client, o.nodes, Math.max(60_000, deadline - Date.now()));
  client.close();
  result.joinSeconds = (Date.now() - t) / 1000;
  console.log(`  ${ready}/${o.nodes} hollow nodes Ready after ${result.joinSeconds.toFixed(1)} s`);
  if (ready < o.nodes) throw new Error(`only ${ready} of ${o.nodes} nodes became Ready`);
}

async function createNamespaces(client: KubeClient, n: number): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `density-${i}`);
  await forEachLimited(names, 8, async (name) => {
    await client.create<Namespace>(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  });
  // The namespaces' ServiceAccount controller makes "default"; pods wait for nothing else here.
  return names;
}

/** Saturation, latency pods, steady state; progress every 15 s. */
async function podPhases(o: Options, client: KubeClient, tracker: PodTracker, namespaces: string[], master: ChildProcess, hollows: ChildProcess[], etcdPid: number | undefined, deadline: number, result: RunResult): Promise<void> {
  const names = podNames(o, namespaces);
  const clientSide = new LatencyTable();
  const failures = { count: 0, last: '' };
  const start = Date.now();
  const progress = new ProgressReport(tracker, master, hollows, etcdPid, start);
  try {
    // The deadline bounds the creates too: at 5,000 nodes they slowed to a few per second.
    const creating = forEachLimited(names.saturation, o.createConcurrency, (p) => createPod(client, tracker, p, clientSide, failures), () => Date.now() > deadline, o.createRate);
    await creating;
    if (Date.now() > deadline) return void (result.note = `saturation: ${tracker.created} of ${o.pods} pods created at the deadline`);
    console.log(`  ${o.pods} pods created in ${((Date.now() - start) / 1000).toFixed(1)} s (${failures.count} failed attempts${failures.last ? `, last: ${failures.last}` : ''})`);
    if (!(await waitRunning(tracker, o.pods, deadline))) return void (result.note = `saturation: ${tracker.running} of ${o.pods} pods Running at the deadline`);
    result.saturationSeconds = (Date.now() - start) / 1000;
    console.log(`  all ${o.pods} pods Running${tracker.deletedUnrun ? ` or evicted (${tracker.deletedUnrun})` : ''} after ${result.saturationSeconds.toFixed(1)} s; ${o.latencyPods} latency pods at ${o.latencyRate}/s`);
    await createAtRate(names.latency, o.latencyRate, (p) => createPod(client, tracker, p, clientSide, failures));
    if (!(await waitRunning(tracker, o.pods + o.latencyPods, Math.min(deadline, Date.now() + 120_000)))) return void (result.note = `latency pods: ${tracker.running - o.pods} of ${o.latencyPods} Running`);
    const cpuSteady = procFigures(master.pid ?? 0)?.cpuSeconds ?? 0;
    console.log(`  steady state for ${o.steadySeconds} s`);
    await sleep(o.steadySeconds * 1000);
    result.masterCpuSteadyPerSec = ((procFigures(master.pid ?? 0)?.cpuSeconds ?? 0) - cpuSteady) / Math.max(1, o.steadySeconds);
    result.completed = true;
  } finally {
    progress.stop();
    result.createFailures = failures.count;
    Object.assign(result.client, clientSide.summaries());
  }
}

/** Waits until `want` pods are Running or were deleted before running (evicted: reported, not waited for). */
async function waitRunning(tracker: PodTracker, want: number, deadline: number): Promise<boolean> {
  while (tracker.settled < want) {
    if (Date.now() > deadline) return false;
    await sleep(500);
  }
  return true;
}

/**
 * Progress every 15 s, with each process's share of a core since the last line and this process's
 * event-loop delay: on 2 cores the master, the hollow nodes and this process compete, and a slow
 * phase must say which of them was short of CPU.
 */
class ProgressReport {
  private readonly timer: NodeJS.Timeout;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private lastAt = Date.now();
  private lastCpu = new Map<string, number>();

  constructor(private readonly tracker: PodTracker, private readonly master: ChildProcess, private readonly hollows: ChildProcess[], private readonly etcdPid: number | undefined, private readonly start: number) {
    this.loopDelay.enable();
    this.shares();
    this.timer = setInterval(() => this.report(), 15_000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.loopDelay.disable();
  }

  private report(): void {
    const t = this.tracker;
    const m = procFigures(this.master.pid ?? 0);
    const shares = Object.entries(this.shares()).map(([who, share]) => `${who} ${Math.round(share * 100)}%`).join(' ');
    const delay = `loop delay p99 ${(this.loopDelay.percentile(99) / 1e6).toFixed(0)} ms`;
    this.loopDelay.reset();
    const line = `  t+${Math.round((Date.now() - this.start) / 1000)} s: ${t.created} created, ${t.bound} bound, ${t.running} Running${t.deletedUnrun ? `, ${t.deletedUnrun} deleted before Running (evicted)` : ''}${t.relists ? `, ${t.relists} relists` : ''}; master RSS ${Math.round(m?.rssMb ?? 0)} MB`;
    const rest = `CPU ${shares}; bench ${delay}; load ${loadavg()[0].toFixed(1)}`;
    // Where the master's RSS is: V8's heap, Buffers, or outside both (TLS, HTTP/2, SQLite).
    void ask<NodeJS.MemoryUsage>(this.master, 'memory', 5_000).then((mem) => {
      const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
      const where = mem ? ` (heap ${mb(mem.heapUsed)}/${mb(mem.heapTotal)} MB used/reserved, Buffers ${mb(mem.arrayBuffers)} MB, outside the heap ${mb(mem.rss - mem.heapTotal)} MB)` : '';
      console.log(`${line}${where}; ${rest}`);
    });
  }

  /** Each process's share of a core since the last call. */
  private shares(): Record<string, number> {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.lastAt) / 1000);
    const self = process.cpuUsage();
    const cpu: Record<string, number> = {
      master: procFigures(this.master.pid ?? 0)?.cpuSeconds ?? 0,
      ...Object.fromEntries(this.hollows.map((h, i) => [`hollow${i}`, procFigures(h.pid ?? 0)?.cpuSeconds ?? 0])),
      ...(this.etcdPid ? { etcd: procFigures(this.etcdPid)?.cpuSeconds ?? 0 } : {}),
      bench: (self.user + self.system) / 1e6,
    };
    const out: Record<string, number> = {};
    for (const [who, s] of Object.entries(cpu)) out[who] = (s - (this.lastCpu.get(who) ?? s)) / seconds;
    this.lastCpu = new Map(Object.entries(cpu));
    this.lastAt = now;
    return out;
  }
}

function summarizeProfile(file: string, whose: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const top = profileTop(file, process.argv[1], 25);
  const lines = [`${whose} CPU profile of the pod phases ${file} (${top.seconds.toFixed(0)} s sampled)`, 'by module:'];
  for (const l of top.files.slice(0, 15)) lines.push(`  ${l.selfPct.toFixed(1).padStart(5)} %  ${l.where}`);
  lines.push('by function:');
  for (const l of top.functions) lines.push(`  ${l.selfPct.toFixed(1).padStart(5)} %  ${l.where}`);
  return lines.join('\n');
}

function summarizeHeapProfile(file: string): string {
  const top = heapProfileTop(file, process.argv[1]);
  const lines = [`the master's live heap by allocation site ${file} (${top.totalMb.toFixed(0)} MB sampled)`, 'by function:'];
  for (const l of top.functions) lines.push(`  ${l.mb.toFixed(0).padStart(6)} MB  ${l.where}`);
  lines.push('by stack (allocating function ← lotse callers):');
  for (const l of top.stacks) lines.push(`  ${l.mb.toFixed(0).padStart(6)} MB  ${l.where}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- output

const ms = (x: number | undefined): string => (x === undefined ? '–' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`);

function printResult(r: RunResult): void {
  console.log(`\n### ${r.store}, ${r.nodes} nodes, ${r.pods} pods: ${r.completed ? 'completed' : `NOT completed (${r.note})`}`);
  console.log(`nodes Ready after ${r.joinSeconds.toFixed(0)} s; all saturation pods Running after ${r.saturationSeconds ? `${r.saturationSeconds.toFixed(0)} s` : '–'}; ${r.podsRunning} pods Running, ${r.podsDeletedUnrun} deleted before Running (evicted); ${r.readyNodesAtEnd} nodes Ready at the end; ${r.createFailures} failed create attempts`);
  console.log(`master: peak RSS ${Math.round(r.master?.peakRssMb ?? r.masterPeakSampledMb)} MB, CPU ${r.master?.cpuSeconds.toFixed(0)} s in all, ${r.masterCpuPodPhase.toFixed(0)} s from the first pod on${r.completed ? `, ${(r.masterCpuSteadyPerSec * 100).toFixed(0)} % of a core in the steady state` : ''}`);
  if (r.etcd) console.log(`etcd: peak RSS ${Math.round(r.etcd.peakRssMb)} MB, CPU ${r.etcd.cpuSeconds.toFixed(0)} s`);
  console.log(`hollow processes: peak RSS ${r.hollowPeakMb.join(' / ')} MB; oldest Lease seen ${r.hollow.map((h) => (h ? `${(h.worstLeaseAgeMs / 1000).toFixed(1)} s (${h.lateLeaseChecks} of ${h.leaseChecks} checks > 20 s, ${h.errors} errors)` : '?')).join(' / ')}`);
  for (const h of r.hollow) for (const e of h?.firstErrors ?? []) console.log(`  hollow error: ${e}`);
  console.log('\n| call (server side, ms) | count | p50 | p99 | max | SLI p50 / p99 (no slot wait) |\n|---|---:|---:|---:|---:|---:|');
  for (const [k, s] of Object.entries(r.server)) {
    // A row named "(…, %)" holds shares, not times.
    const f = k.endsWith(', %)') ? (v: number | undefined): string => (v === undefined ? '–' : `${v.toFixed(0)} %`) : ms;
    console.log(`| ${k} | ${s.count} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} | ${f(r.serverSli[k]?.p50)} / ${f(r.serverSli[k]?.p99)} |`);
  }
  console.log('\n| measured here | count | p50 | p99 | max |\n|---|---:|---:|---:|---:|');
  const here: Record<string, LatencySummary | undefined> = { ...r.client, ...r.watchLag, 'pod start-up, saturation pods': r.startupSaturation, 'pod start-up, latency pods': r.startupLatency,
    'create → bound, saturation pods': r.schedulingSaturation, 'create → bound, latency pods': r.schedulingLatency };
  for (const [k, s] of Object.entries(here)) if (s) console.log(`| ${k} | ${s.count} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`);
  if (r.profile) console.log(`\n${r.profile}`);
}

async function main(): Promise<void> {
  const o = options();
  mkdirSync('bench/.out', { recursive: true });
  console.log(`density: ${o.nodes} hollow nodes in ${o.hollowProcs} processes, ${o.pods} pods (+${o.latencyPods} latency pods), stores ${o.stores.join(', ')}; ` +
    `saturation creates ${o.createConcurrency} in flight${o.createRate > 0 ? ` at ${o.createRate}/s` : ''}; scheduler binds in flight ${o.bindsInFlight || 'default'}`);
  for (const store of o.stores) {
    console.log(`\n${store}: starting`);
    const r = await runStore(store, o);
    writeFileSync(`bench/.out/density-${store}-${o.nodes}-${o.pods}.json`, JSON.stringify(r, null, 2));
    printResult(r);
  }
}

const role = process.env.BENCH_ROLE;
const entry = role === 'master' ? runMaster() : role === 'hollow' ? runHollow() : main();
entry.catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
