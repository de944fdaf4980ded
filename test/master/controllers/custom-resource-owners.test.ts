import { ApiError } from '../../../kube/api-error';
import type { KubeObject } from '../../../kube/object';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { startCluster, waitFor, type TestCluster } from './cluster';

const widgets = (namespace?: string, name?: string): ResourceRef => ({ group: 'apps.example.com', version: 'v1', resource: 'widgets', namespace, name });
const crds = (name?: string): ResourceRef => ({ group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', name });

/** Custom resources take part in the cluster's life like built-in kinds: owners of garbage, contents of namespaces. */
describe('custom resources and the controllers', () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await startCluster({ nodes: 0 });
    await c.client.create(crds(), ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.apps.example.com' },
      spec: {
        group: 'apps.example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }],
      },
    }) as KubeObject);
    await waitFor('widgets served', async () => (await c.client.raw('GET', '/apis/apps.example.com/v1')).status === 200, 10_000);
  }, 60_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('deletes what a custom resource owned once it is deleted', async () => {
    const owner = await c.client.create(widgets('default'), { apiVersion: 'apps.example.com/v1', kind: 'Widget', metadata: { name: 'owner' }, spec: {} } as KubeObject);
    await c.client.create(core('configmaps', 'default'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', ownerReferences: [{ apiVersion: 'apps.example.com/v1', kind: 'Widget', name: 'owner', uid: owner.metadata?.uid ?? '' }] },
      data: { a: 'b' },
    } as KubeObject);
    await new Promise((r) => setTimeout(r, 1000));
    // the owner exists: the dependent stays
    await c.client.get(core('configmaps', 'default', 'owned'));
    await c.client.delete(widgets('default', 'owner'));
    await waitFor('the owned ConfigMap collected', async () => c.client.get(core('configmaps', 'default', 'owned')).then(() => false, (err: unknown) => ApiError.isNotFound(err)), 30_000);
  }, 60_000);

  it('empties a deleted namespace of its custom resources', async () => {
    await c.client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'widget-ns' } });
    await c.client.create(widgets('widget-ns'), { apiVersion: 'apps.example.com/v1', kind: 'Widget', metadata: { name: 'inside' }, spec: {} } as KubeObject);
    await c.client.delete(core('namespaces', undefined, 'widget-ns'));
    await waitFor('the namespace gone', async () => c.client.get(core('namespaces', undefined, 'widget-ns')).then(() => false, (err: unknown) => ApiError.isNotFound(err)), 30_000);
    await expect(c.client.get(widgets('widget-ns', 'inside'))).rejects.toThrow(/not found/);
  }, 60_000);
});
