/**
 * What a list of every pod costs the master's loop, read from the store and from the list cache
 * a selective list made, and its encoding: N pods (default 30,000, the density bench's) shaped like
 * an agent's Running pod with its managedFields, in a SQLite store in a temp dir.
 *   npx esbuild bench/large-list.ts --bundle --platform=node --packages=external --outfile=bench/.out/large-list.js && node bench/.out/large-list.js [N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from '../master/api/registry';
import { resources, type ResourceInfo } from '../master/api/resources';
import { SqliteStore } from '../master/store/sqlite-store';
import { Selector } from '../kube/label-selector';

const pods = resources.find((r) => r.plural === 'pods') as ResourceInfo;
const N = Number(process.argv[2] ?? 30000);
const mf = [{ manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: '2026-12-05T10:00:00Z', fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:lastProbeTime': {}, 'f:status': {}, 'f:type': {} } }, 'f:containerStatuses': {}, 'f:hostIP': {}, 'f:phase': {}, 'f:podIP': {}, 'f:startTime': {} } } }];
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lb-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const registry = new Registry(store);
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    const ns = `density-${i % 10}`;
    batch.push(store.create(`/registry/core/pods/${ns}/p-${i}`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: ns, uid: `uid-${i}`, labels: { density: '1', app: `a${i % 100}` }, managedFields: mf, creationTimestamp: '2026-12-05T10:00:00Z' }, spec: { nodeName: `hollow-${i % 1000}`, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '10m', memory: '10Mi' } } }], serviceAccountName: 'default', tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] }, status: { phase: 'Running', podIP: `10.0.${i % 250}.${i % 200}`, hostIP: '10.1.0.1', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-05T10:00:01Z' }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'pause', imageID: 'x', containerID: 'fake://x', state: { running: { startedAt: '2026-12-05T10:00:01Z' } } }] } }));
    if (batch.length === 1000) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  const t = (label: string, f: () => unknown): unknown => { const t0 = performance.now(); const r = f(); console.log(label, (performance.now() - t0).toFixed(0), 'ms'); return r; };
  let fromStore = 0;
  let fromCache = 0;
  for (let round = 0; round < 2; round++) {
    const t0 = performance.now();
    const res = await registry.list(pods, undefined, {});
    fromStore = performance.now() - t0;
    console.log('registry.list (store)', fromStore.toFixed(0), 'ms', res.items.length);
    t('JSON.stringify', () => JSON.stringify({ kind: 'PodList', items: res.items }).length);
  }
  await registry.list(pods, undefined, { labelSelector: Selector.parse('density=1') });
  for (let round = 0; round < 2; round++) {
    const t0 = performance.now();
    const res = await registry.list(pods, undefined, {});
    fromCache = performance.now() - t0;
    console.log('registry.list (cache)', fromCache.toFixed(0), 'ms', res.items.length);
  }
  console.log(`every pod from the cache / from the store (second rounds): ${(fromCache / fromStore).toFixed(2)}`);
  registry.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
void main();
