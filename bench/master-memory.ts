/**
 * What a pod costs the master in memory: the V8 heap after a full GC, before and after N pods
 * exist (created, bound, their status written as an agent writes it), divided by N; with the
 * controller manager (as `lotse master` runs) or without it (--no-controllers), so the share of
 * the controllers' informers shows. --snapshot PREFIX writes PREFIX.before.heapsnapshot and
 * PREFIX.after.heapsnapshot, without and with the pods (for DevTools' Memory panel, whose
 * comparison view shows what the pods added).
 * --list-cache makes one `spec.nodeName=` list of pods first, as every agent does, so the API's
 * list cache of pods (master/api/list-cache.ts) holds them too, as in a cluster with nodes.
 * --whole-list then lists every pod in one unpaginated request, read by a client that counts the
 * bytes and keeps none, and prints how far the master's heap rose above the settled heap while
 * it answered (sampled every 5 ms and after each of the answer's slices).
 *
 *   npx esbuild bench/master-memory.ts --bundle --platform=node --packages=external --outfile=bench/.out/master-memory.js \
 *     && node --expose-gc bench/.out/master-memory.js [--pods 20000] [--nodes 100] [--store sqlite|etcd] [--no-controllers] [--list-cache] [--whole-list] [--snapshot PREFIX]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { writeHeapSnapshot } from 'node:v8';
import type { Pod } from 'kubernetes-types/core/v1';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { masterControllers } from '../master/controllers/master-controllers';
import { startMaster } from '../master/server';
import { settledHeap } from './settled-heap';
import { startEtcd } from '../test/support/etcd';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** A status as the agent writes it for a running one-container pod. */
function runningStatus(i: number, node: number): Pod['status'] {
  const now = new Date().toISOString();
  return {
    phase: 'Running',
    hostIP: `10.0.${node >> 8}.${node & 255}`,
    podIP: `10.244.${i >> 8 & 255}.${i & 255}`,
    podIPs: [{ ip: `10.244.${i >> 8 & 255}.${i & 255}` }],
    startTime: now,
    qosClass: 'Burstable',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
    containerStatuses: [{ name: 'c', ready: true, started: true, restartCount: 0, image: 'registry.k8s.io/pause:3.9', imageID: 'sha256:e6f1816883972d4be47bd48879a08919b96afcd344132622e4d444987919323c', containerID: `docker://${i.toString(16).padStart(64, '0')}`, state: { running: { startedAt: now } } }],
  };
}

async function main(): Promise<void> {
  const pods = Number(arg('pods', '20000'));
  const nodes = Number(arg('nodes', '100'));
  const storeKind = arg('store', 'sqlite');
  const controllers = !process.argv.includes('--no-controllers');
  const snapshot = arg('snapshot', '');
  process.env.LOTSE_LOG_LEVEL ??= 'error';
  const etcd = storeKind === 'etcd' ? await startEtcd() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'master-memory-'));
  const m = await startMaster({ dataDir, listen: '127.0.0.1:0', store: etcd ? `etcd://${etcd.hostPort}` : undefined, controllers: controllers ? masterControllers() : undefined });
  const client = new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken, http2: true });
  try {
    for (let n = 0; n < nodes; n++) {
      await client.create(core('nodes'), { metadata: { name: `mem-${n}` }, status: { capacity: { cpu: '64', memory: '256Gi', pods: '1000' }, allocatable: { cpu: '64', memory: '256Gi', pods: '1000' } } } as never);
    }
    const namespaces = Math.ceil(pods / 3000);
    for (let n = 0; n < namespaces; n++) await client.create(core('namespaces'), { metadata: { name: `mem-${n}` } } as never);
    if (process.argv.includes('--list-cache')) await client.list(core('pods'), { fieldSelector: 'spec.nodeName=mem-0' });
    await sleep(2000);
    const before = await settledHeap();
    if (snapshot) console.log(`heap snapshot before the pods: ${writeHeapSnapshot(`${snapshot}.before.heapsnapshot`)}`);
    console.log(`store ${storeKind}, controllers ${controllers ? 'on' : 'off'}, list cache of pods ${process.argv.includes('--list-cache') ? 'on' : 'off'}: before the pods heap ${before.heapMb.toFixed(0)} MB, RSS ${before.rssMb.toFixed(0)} MB`);
    const t0 = Date.now();
    const ids = Array.from({ length: pods }, (_, i) => i);
    await forEachLimited(ids, 32, async (i) => {
      const ns = `mem-${Math.floor(i / 3000)}`;
      const node = i % nodes;
      await client.create(core('pods', ns), {
        metadata: { name: `p-${i}`, labels: { app: 'mem', group: String(i % 10) } },
        spec: { nodeName: `mem-${node}`, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] },
      } as never);
      await client.patch(core('pods', ns, `p-${i}`, 'status'), 'merge', { status: runningStatus(i, node) });
      if ((i + 1) % 5000 === 0) console.log(`  ${i + 1} pods after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    });
    await sleep(5000); // watches and informers have caught up
    const after = await settledHeap();
    const perPodKb = ((after.heapMb - before.heapMb) * 1024) / pods;
    console.log(`after ${pods} pods: heap ${after.heapMb.toFixed(0)} MB, RSS ${after.rssMb.toFixed(0)} MB: ${perPodKb.toFixed(1)} KB of heap per pod`);
    console.log(`at 150,000 pods that is ${((perPodKb * 150_000) / 2 ** 20).toFixed(2)} GB of heap for the pods alone`);
    if (process.argv.includes('--whole-list')) await wholeList(m.url, m.caPem, m.adminToken, after.heapMb);
    if (snapshot) console.log(`heap snapshot with the pods: ${writeHeapSnapshot(`${snapshot}.after.heapsnapshot`)}`);
  } finally {
    client.close();
    await m.close();
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One unpaginated list of every pod, its bytes counted and dropped, with the master's heap sampled meanwhile. */
async function wholeList(server: string, ca: string, token: string, settledMb: number): Promise<void> {
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 5);
  const started = performance.now();
  const { bytes, status } = await new Promise<{ bytes: number; status: number }>((resolve, reject) => {
    const url = new URL(server);
    const req = https.request({ host: url.hostname, port: url.port, path: '/api/v1/pods', ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        sample();
      });
      res.on('end', () => resolve({ bytes: n, status: res.statusCode ?? 0 }));
      res.on('error', reject);
    });
    req.on('error', reject).end();
  });
  clearInterval(timer);
  sample();
  console.log(`an unpaginated list of every pod: HTTP ${status}, ${(bytes / 2 ** 20).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(2)} s; ` +
    `the heap's peak ${(peak / 2 ** 20 - settledMb).toFixed(0)} MB above the settled heap (${settledMb.toFixed(0)} MB)`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
