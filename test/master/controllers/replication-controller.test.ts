import type { KubeObject } from '../../../kube/object';
import { ApiError } from '../../../kube/api-error';
import { core } from '../../../kube/resource-path';
import { kubectlOk } from '../../support/kubectl';
import { isRunningReady, listPods, startCluster, waitFor, type TestCluster } from './cluster';

/** ReplicationControllers (and PodTemplates) on hollow nodes, as manifests of older clusters use them. */
describe('ReplicationControllers', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ nodes: 2 });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('keeps its replicas with a label-map selector, scales through kubectl, and takes its pods when deleted', async () => {
    await kubectlOk(c.master.kubeconfigPath, ['create', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy' },
      spec: { replicas: 2, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'main', image: 'img:a' }] } } },
    }));
    // the API defaults the selector to the template's labels
    expect(await kubectlOk(c.master.kubeconfigPath, ['get', 'rc', 'legacy', '-o', 'jsonpath={.spec.selector.app}'])).toBe('legacy');
    await waitFor('2 ready pods', async () => (await listPods(c.client, 'default', 'app=legacy')).filter(isRunningReady).length === 2, 30_000);
    const pods = await listPods(c.client, 'default', 'app=legacy');
    expect(pods.every((p) => p.metadata?.ownerReferences?.[0]?.kind === 'ReplicationController' && p.metadata.ownerReferences[0].apiVersion === 'v1')).toBe(true);
    await kubectlOk(c.master.kubeconfigPath, ['scale', 'rc', 'legacy', '--replicas=3']);
    await waitFor('3 ready and reported', async () => (await kubectlOk(c.master.kubeconfigPath, ['get', 'rc', 'legacy', '-o', 'jsonpath={.status.readyReplicas}'])) === '3', 30_000);
    expect((await kubectlOk(c.master.kubeconfigPath, ['get', 'rc', 'legacy'])).split('\n')[1]).toMatch(/^legacy\s+3\s+3\s+3\s+/);
    await kubectlOk(c.master.kubeconfigPath, ['delete', 'rc', 'legacy']);
    await waitFor('its pods gone', async () => (await listPods(c.client, 'default', 'app=legacy')).filter((p) => !p.metadata?.deletionTimestamp).length === 0, 30_000);
  }, 90_000);

  it('stores PodTemplates', async () => {
    await c.client.create(core('podtemplates', 'default'), { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 'tpl' }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'img' }] } } } as KubeObject);
    expect((await kubectlOk(c.master.kubeconfigPath, ['get', 'podtemplates'])).split('\n')[1]).toMatch(/^tpl\s+c\s+img\s+a=b$/);
    await c.client.delete(core('podtemplates', 'default', 'tpl'));
    const gone = await c.client.get(core('podtemplates', 'default', 'tpl')).then(() => false, (e: unknown) => ApiError.isNotFound(e));
    expect(gone).toBe(true);
  });
});
