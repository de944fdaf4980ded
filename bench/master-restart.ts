/**
 * Master-restart benchmark (issue 20): how the informers of many nodes come back to a master that
 * was killed and started again. Every one of them lost it in the same instant; without jitter in
 * their back-off they retry in the same instants too, and the master, back up, meets them all in
 * the same few milliseconds (a TLS handshake and a list each).
 *   npm run build && npx esbuild bench/master-restart.ts --bundle --platform=node --packages=external --outfile=bench/.out/master-restart.js \
 *     && node bench/.out/master-restart.js [--informers 1000] [--down 10] [--settle 60]
 * A real `lotse master --no-controllers`; --informers Informers on ConfigMaps in this process, each
 * with its own KubeClient over HTTP/2 (its own connection, as each node has). Once all have
 * listed, the master's process is killed (SIGKILL), started again on the same data directory and
 * port --down seconds later, and for --settle seconds the informers' lists are recorded: how many
 * were tried while it was down, how soon after it was ready each informer had listed again, how
 * many lists came in the busiest 100 ms, and the master's CPU in its first 10 s back. Once the
 * master is ready the bench changes one ConfigMap and records how soon each informer saw the
 * change, by a list or a watch (informers re-watch from their resourceVersion after a refused
 * connection, so most need no list), and the watches tried while the master was down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap } from 'kubernetes-types/core/v1';
import { KubeClient, type ListQuery, type WatchHandle, type WatchQuery } from '../kube/client';
import { Informer } from '../kube/informer';
import type { ListWatch } from '../kube/list-watch';
import type { KubeObject, WatchEvent } from '../kube/object';
import { core, type ResourceRef } from '../kube/resource-path';
import { freePort, startMasterProcess, type MasterProcess } from '../test/support/master-process';
import { procFigures } from './density-stats';

const argOf = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const INFORMERS = Number(argOf('informers', '1000'));
const DOWN_S = Number(argOf('down', '10'));
const SETTLE_S = Number(argOf('settle', '60'));
const CONFIGMAPS = 50;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ListRecord {
  at: number;
  ok: boolean;
}

/** The client as the informer's source, recording when each list was sent and whether it was answered, and when each watch was asked for. */
function recording(client: KubeClient, lists: ListRecord[], watches: number[]): ListWatch {
  return {
    async list<T extends KubeObject>(ref: ResourceRef, query?: ListQuery) {
      const record: ListRecord = { at: performance.now(), ok: false };
      lists.push(record);
      const answer = await client.list<T>(ref, query);
      record.ok = true;
      return answer;
    },
    watch<T extends KubeObject>(ref: ResourceRef, query: WatchQuery, onEvent: (event: WatchEvent<T>) => void, onError?: (err: Error) => void): WatchHandle {
      watches.push(performance.now());
      return client.watch<T>(ref, query, onEvent, onError);
    },
  };
}

/** The master's CPU (user + system) in seconds. */
const cpuSeconds = (pid: number): number => procFigures(pid)?.cpuSeconds ?? 0;

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-restart-'));
  const port = await freePort();
  let master: MasterProcess = await startMasterProcess(dir, port, ['--no-controllers']);
  const admin = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  for (let i = 0; i < CONFIGMAPS; i++) await admin.create<ConfigMap>(core('configmaps', 'default'), { metadata: { name: `cm-${i}` }, data: { i: String(i) } } as ConfigMap);
  admin.close();
  const clients: KubeClient[] = [];
  const informers: Informer<ConfigMap>[] = [];
  const lists: ListRecord[][] = [];
  const watches: number[][] = [];
  /** When each informer first held the change made once the master was back. */
  const sawChange: (number | undefined)[] = [];
  try {
    for (let i = 0; i < INFORMERS; i++) {
      const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, http2: true, timeoutMs: 10_000 });
      const mine: ListRecord[] = [];
      const myWatches: number[] = [];
      watches.push(myWatches);
      const informer = new Informer<ConfigMap>(recording(client, mine, myWatches), core('configmaps', 'default'));
      informer.on((_type, cm) => {
        if (cm.data?.i === 'changed' && sawChange[i] === undefined) sawChange[i] = performance.now();
      });
      await informer.start();
      clients.push(client);
      informers.push(informer);
      lists.push(mine);
    }
    await sleep(2000);
    const killedAt = performance.now();
    await master.kill('SIGKILL');
    await sleep(DOWN_S * 1000);
    const startedAt = performance.now();
    master = await startMasterProcess(dir, port, ['--no-controllers']);
    const readyAt = performance.now();
    const cpu0 = cpuSeconds(master.child.pid as number);
    const changer = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
    await changer.patch(core('configmaps', 'default', 'cm-0'), 'merge', { data: { i: 'changed' } });
    changer.close();
    await sleep(10_000);
    const cpu10 = cpuSeconds(master.child.pid as number) - cpu0;
    await sleep((SETTLE_S - 10) * 1000);

    const duringOutage = lists.reduce((n, mine) => n + mine.filter((l) => l.at > killedAt && l.at < startedAt).length, 0);
    // From the master's start on; its readiness is polled every 50 ms, so a list may beat readyAt.
    const back = lists.map((mine) => mine.find((l) => l.ok && l.at > killedAt)?.at);
    const backMs = back.filter((t): t is number => t !== undefined).map((t) => t - readyAt).sort((a, b) => a - b);
    const sinceStart = lists.flatMap((mine) => mine.filter((l) => l.at >= startedAt).map((l) => l.at - startedAt));
    const perWindow = new Map<number, number>();
    for (const ms of sinceStart) perWindow.set(Math.floor(ms / 100), (perWindow.get(Math.floor(ms / 100)) ?? 0) + 1);
    const busiest = Math.max(0, ...perWindow.values());
    const listsAfter = sinceStart.length;
    const watchesDown = watches.reduce((n, mine) => n + mine.filter((t) => t > killedAt && t < startedAt).length, 0);
    const seenMs = sawChange.filter((t): t is number => t !== undefined).map((t) => t - readyAt).sort((a, b) => a - b);
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    console.log(`${INFORMERS} informers, master down ${DOWN_S} s\n`);
    const spread = (ms: number[]): string => (ms.length ? `${s(quantile(ms, 0.5))} / ${s(quantile(ms, 0.99))} / ${s(ms[ms.length - 1])}` : '–');
    console.log('| lists / watches tried while down | lists after the start | informers listed again | ready → listed again p50 / p99 / max | lists in the busiest 100 ms | ready → change seen p50 / p99 / max (informers) | master CPU, first 10 s back |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    console.log(
      `| ${duringOutage} / ${watchesDown} | ${listsAfter} | ${backMs.length} of ${INFORMERS} | ${spread(backMs)} | ${busiest} | ${spread(seenMs)} (${seenMs.length} of ${INFORMERS}) | ${cpu10.toFixed(2)} s |`,
    );
  } finally {
    for (const informer of informers) informer.stop();
    for (const client of clients) client.close();
    await master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
