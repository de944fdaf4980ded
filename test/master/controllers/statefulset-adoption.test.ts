import type { StatefulSet } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { apps, core } from '../../../kube/resource-path';
import { startCluster, waitFor, type TestCluster } from './cluster';

jest.setTimeout(60_000);

/** StatefulSets claim pods as Kubernetes' ControllerRefManager: matching orphans with a set's pod names are adopted, others are not. */
describe('StatefulSet adoption', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ nodes: 1 });
  });
  afterAll(async () => {
    await c?.stop();
  });

  // OnDelete: under RollingUpdate the adopted pod, which carries no revision of the set, would then
  // be replaced by one of the current revision, as upstream does.
  test('an orphan named NAME-0 that matches the selector is adopted instead of replaced; a pod with another name is left alone', async () => {
    const labels = { app: 'db' };
    const orphan = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'img' }] } });
    const first = await c.client.create<Pod>(core('pods', 'default'), orphan('db-0'));
    await c.client.create<Pod>(core('pods', 'default'), orphan('stray'));
    const sts: StatefulSet = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { replicas: 2, serviceName: 'db', updateStrategy: { type: 'OnDelete' }, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'img' }] } } } };
    const made = await c.client.create<StatefulSet>(apps('statefulsets', 'default'), sts);
    const adopted = await waitFor('db-0 adopted', async () => {
      const p = await c.client.get<Pod>(core('pods', 'default', 'db-0'));
      return p.metadata?.ownerReferences?.find((o) => o.controller)?.uid === made.metadata?.uid && p;
    });
    expect(adopted.metadata?.uid).toBe(first.metadata?.uid); // the same pod, not a replacement
    await waitFor('db-1 made', async () => (await c.client.list<Pod>(core('pods', 'default'), { labelSelector: 'app=db' })).items.some((p) => p.metadata?.name === 'db-1'));
    const stray = await c.client.get<Pod>(core('pods', 'default', 'stray'));
    expect(stray.metadata?.ownerReferences ?? []).toEqual([]);
  });
});
