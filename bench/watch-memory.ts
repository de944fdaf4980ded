/**
 * What an open watch costs the master in memory. A node watches the ConfigMaps and Secrets its
 * pods use, one watch each (as the kubelet's watch-based manager does), so at 5,000 nodes with
 * pods in ~15 namespaces each the master holds ~75,000 such watches. This bench starts a master
 * in this process (SQLite, no controllers), opens --sessions HTTP/2 connections from a forked
 * child (one per node, as the agents do) and then --watches-per-session watches on each, on
 * `kube-root-ca.crt` of distinct namespaces, and prints the master's heap (after full GCs) and
 * RSS at each step, per connection and per watch.
 *
 *   npx esbuild bench/watch-memory.ts --bundle --platform=node --packages=external --outfile=bench/.out/watch-memory.js \
 *     && node --expose-gc bench/.out/watch-memory.js [--sessions 500] [--watches-per-session 20] [--snapshot PREFIX]
 * --snapshot writes PREFIX.connected.heapsnapshot and PREFIX.watching.heapsnapshot (before and with the watches).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { startMaster } from '../master/server';
import { settledHeap } from './settled-heap';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type ToChild = { step: 'connect' } | { step: 'watch'; namespaces: number };

/** The child: one client per node, each connected, then watching one ConfigMap per namespace. */
async function child(url: string, ca: string, token: string, sessions: number, perSession: number): Promise<void> {
  const clients = Array.from({ length: sessions }, () => new KubeClient({ server: url, ca, token, http2: true }));
  let events = 0;
  process.on('message', async (msg: ToChild) => {
    if (msg.step === 'connect') {
      for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.raw('GET', '/version')));
    } else {
      clients.forEach((c, s) => {
        for (let k = 0; k < perSession; k++) {
          const ns = `wm-${(s + k) % msg.namespaces}`;
          c.watch(core('configmaps', ns), { fieldSelector: 'metadata.name=kube-root-ca.crt' }, () => events++);
        }
      });
      // Every watch has sent its ADDED (the object exists in each namespace).
      while (events < sessions * perSession) await sleep(200);
    }
    process.send?.('done');
  });
  process.send?.('ready');
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') {
    await child(process.argv[3], process.argv[4], process.argv[5], Number(process.argv[6]), Number(process.argv[7]));
    return new Promise(() => undefined); // answers the parent until it kills this process
  }
  const sessions = Number(arg('sessions', '500'));
  const perSession = Number(arg('watches-per-session', '20'));
  const namespaces = perSession * 2;
  const snapshot = arg('snapshot', '');
  process.env.LOTSE_LOG_LEVEL ??= 'error';
  const dataDir = mkdtempSync(join(tmpdir(), 'watch-memory-'));
  const m = await startMaster({ dataDir, listen: '127.0.0.1:0' });
  const admin = new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken, http2: true });
  const proc = fork(process.argv[1], ['child', m.url, m.caPem, m.adminToken, String(sessions), String(perSession)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  const reply = (): Promise<void> => new Promise((resolve) => proc.once('message', () => resolve()));
  try {
    await reply();
    for (let n = 0; n < namespaces; n++) {
      await admin.create(core('namespaces'), { metadata: { name: `wm-${n}` } } as never);
      await admin.create(core('configmaps', `wm-${n}`), { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': m.caPem } } as never);
    }
    const base = await settledHeap();
    console.log(`master alone: heap ${base.heapMb.toFixed(0)} MB, RSS ${base.rssMb.toFixed(0)} MB`);
    proc.send({ step: 'connect' } satisfies ToChild);
    await reply();
    const connected = await settledHeap();
    console.log(`${sessions} HTTP/2 connections: heap ${connected.heapMb.toFixed(0)} MB, RSS ${connected.rssMb.toFixed(0)} MB; per connection ${(((connected.heapMb - base.heapMb) * 1024) / sessions).toFixed(1)} KB heap, ${(((connected.rssMb - base.rssMb) * 1024) / sessions).toFixed(1)} KB RSS`);
    if (snapshot) console.log(`heap snapshot before the watches: ${writeHeapSnapshot(`${snapshot}.connected.heapsnapshot`)}`);
    const t0 = Date.now();
    proc.send({ step: 'watch', namespaces } satisfies ToChild);
    await reply();
    const watching = await settledHeap();
    const watches = sessions * perSession;
    const perWatch = (mb: number): string => ((mb * 1024) / watches).toFixed(1);
    console.log(`${watches} watches open in ${((Date.now() - t0) / 1000).toFixed(1)} s: heap ${watching.heapMb.toFixed(0)} MB, RSS ${watching.rssMb.toFixed(0)} MB; per watch ${perWatch(watching.heapMb - connected.heapMb)} KB heap, ${perWatch(watching.rssMb - connected.rssMb)} KB RSS`);
    // RSS beyond the heap V8 has reserved: Node's native HTTP/2 and TLS state, and malloc's own.
    const outside = (h: { heapTotalMb: number; rssMb: number }): number => h.rssMb - h.heapTotalMb;
    console.log(`  of which V8 heap reserved ${perWatch(watching.heapTotalMb - connected.heapTotalMb)} KB, outside the heap ${perWatch(outside(watching) - outside(connected))} KB per watch`);
    if (snapshot) console.log(`heap snapshot with the watches: ${writeHeapSnapshot(`${snapshot}.watching.heapsnapshot`)}`);
    console.log(`at 75,000 watches that is ${((((watching.heapMb - connected.heapMb) / watches) * 75_000) / 1024).toFixed(2)} GB of heap`);
  } finally {
    proc.kill();
    admin.close();
    await m.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
