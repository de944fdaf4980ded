import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { ApiError } from '../../../kube/api-error';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

let m: TestMaster;
const pdbs: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: 'default' };

async function runningPod(name: string): Promise<void> {
  await m.client.create(core('pods', 'default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'race' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } } as Pod);
  const status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  await m.client.patch(core('pods', 'default', name, 'status'), 'merge', { status });
}

function evict(name: string): Promise<{ status: number; body: string }> {
  return m.client.raw('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } });
}

describe.each(storeKinds)('eviction on %s', (store) => {
  beforeAll(async () => {
    m = await startTestMaster({ store });
  }, 60_000);

  afterAll(async () => {
    await m?.stop();
  });

  test('evictions racing for one budget all get a decision on its latest state, never a 409 (kubectl drain evicts in parallel)', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `race-${i}`);
    for (const n of names) await runningPod(n);
    await m.client.create(pdbs, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'race' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'race' } } } } as PodDisruptionBudget);
    const pdb = await m.client.get<PodDisruptionBudget>({ ...pdbs, name: 'race' });
    // What the disruption controller would write: 6 healthy, 2 needed, 4 disruptions allowed.
    await m.client.patch({ ...pdbs, name: 'race', subresource: 'status' }, 'merge', { status: { observedGeneration: pdb.metadata?.generation, currentHealthy: 6, desiredHealthy: 2, expectedPods: 6, disruptionsAllowed: 4 } });

    const answers = await Promise.all(names.map(evict));
    const codes = answers.map((a) => a.status).sort();
    expect(codes).toEqual([201, 201, 201, 201, 429, 429]);
    const after = await m.client.get<PodDisruptionBudget>({ ...pdbs, name: 'race' });
    expect(after.status?.disruptionsAllowed).toBe(0);
    expect(Object.keys(after.status?.disruptedPods ?? {})).toHaveLength(4);
    const left = await Promise.all(names.map((n) => m.client.get<Pod>(core('pods', 'default', n)).then((p) => !p.metadata?.deletionTimestamp, (e) => (ApiError.isNotFound(e) ? false : Promise.reject(e)))));
    expect(left.filter(Boolean)).toHaveLength(2);
  }, 30_000);
});
