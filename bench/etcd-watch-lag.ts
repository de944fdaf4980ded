/**
 * How late a write reaches a watch of the etcd store, while the master's event loop is busy as
 * under a node burst: --busy-ms of synchronous work every --period-ms (the loop's turns get that
 * long). W writers put --value-kb objects as fast as etcd takes them; the watch (on "/", as the
 * master's caches watch) records, for each write, the time from its answer to its event.
 *
 *   npx esbuild bench/etcd-watch-lag.ts --bundle --platform=node --packages=external --outfile=bench/.out/etcd-watch-lag.js \
 *     && node bench/.out/etcd-watch-lag.js [--writes 5000] [--writers 64] [--value-kb 3] [--busy-ms 40] [--period-ms 50] [--window-kb N]
 *
 * --window-kb sets the gRPC flow-control window of the store's connection (0: gRPC's 64 KiB default).
 */
import { EtcdStore } from '../master/store/etcd-store';
import { startEtcd } from '../test/support/etcd';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const writes = Number(arg('writes', '5000'));
  const writers = Number(arg('writers', '64'));
  const valueKb = Number(arg('value-kb', '3'));
  const busyMs = Number(arg('busy-ms', '40'));
  const periodMs = Number(arg('period-ms', '50'));
  const windowKb = arg('window-kb', '');
  const etcd = await startEtcd();
  const store = new EtcdStore({ endpoints: [etcd.hostPort.startsWith('http') ? etcd.hostPort : `http://${etcd.hostPort}`], ...(windowKb !== '' ? { flowControlWindowBytes: Number(windowKb) * 1024 } : {}) });
  const answered = new Map<string, number>();
  const lags: number[] = [];
  let seen = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const watch = store.watch('/', await store.revision(), {
    onEvent: (e) => {
      const at = answered.get(e.key);
      if (at !== undefined) lags.push(performance.now() - at);
      else answered.set(e.key, -performance.now()); // the event came first: the lag is 0
      if (++seen === writes) done();
    },
    onError: (err) => console.error(`watch failed: ${err.message}`),
  });
  const busy = setInterval(() => {
    const until = performance.now() + busyMs;
    while (performance.now() < until);
  }, periodMs);
  const filler = 'x'.repeat(valueKb * 1024);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: writers }, async () => {
    while (next < writes) {
      const key = `/registry/bench/k-${next++}`;
      await store.create(key, { metadata: { name: key }, filler });
      if (answered.has(key)) lags.push(0);
      else answered.set(key, performance.now());
    }
  }));
  const wroteS = (performance.now() - t0) / 1000;
  await all;
  const totalS = (performance.now() - t0) / 1000;
  clearInterval(busy);
  watch.stop();
  lags.sort((a, b) => a - b);
  console.log(`window ${windowKb === '' ? 'default of the store' : windowKb === '0' ? 'gRPC default (64 KiB)' : `${windowKb} KiB`}: ${writes} writes of ${valueKb} KiB in ${wroteS.toFixed(1)} s (${(writes / wroteS).toFixed(0)}/s), all seen by the watch after ${totalS.toFixed(1)} s; lag p50 ${pct(lags, 50).toFixed(0)} ms, p99 ${pct(lags, 99).toFixed(0)} ms, max ${lags[lags.length - 1].toFixed(0)} ms`);
  await store.close();
  await etcd.stop();
}

main().then(() => process.exit(0), (err: Error) => {
  console.error(err);
  process.exit(1);
});
