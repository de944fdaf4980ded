import type { ResourceQuota } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../../../kube/object';
import { core } from '../../../kube/resource-path';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { startCluster, waitFor, type TestCluster } from './cluster';

const NS = 'quota-test';
const pod = (name: string, cpu?: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { containers: [{ name: 'main', image: 'img', ...(cpu ? { resources: { requests: { cpu } } } : {}) }] } });

/** ResourceQuotas: enforced by the API on every create, reported by the quota controller. */
describe('resource quotas', () => {
  let c: TestCluster;
  const kc = () => c.master.kubeconfigPath;
  beforeAll(async () => {
    c = await startCluster({ nodes: 0 });
    await c.client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } as KubeObject);
    await c.client.create(core('resourcequotas', NS), { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'small' }, spec: { hard: { pods: '2', 'requests.cpu': '2', services: '1' } } } as KubeObject);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('refuses pods without a cpu request and pods beyond the count, in the admission plugin\'s words', async () => {
    const bare = await kubectl(kc(), ['create', '-f', '-'], pod('bare'));
    expect(bare.stderr).toContain('pods "bare" is forbidden: failed quota: small: must specify requests.cpu for: main');
    await kubectlOk(kc(), ['create', '-f', '-'], pod('one', '400m'));
    await kubectlOk(kc(), ['create', '-f', '-'], pod('two', '400m'));
    const third = await kubectl(kc(), ['create', '-f', '-'], pod('three', '400m'));
    expect(third.stderr).toContain('pods "three" is forbidden: exceeded quota: small, requested: pods=1, used: pods=2, limited: pods=2');
    await kubectlOk(kc(), ['create', 'service', 'clusterip', 's1', '--tcp=80:80', '-n', NS]);
    const s2 = await kubectl(kc(), ['create', 'service', 'clusterip', 's2', '--tcp=80:80', '-n', NS]);
    expect(s2.stderr).toContain('exceeded quota: small, requested: services=1, used: services=1, limited: services=1');
  });

  it('charges updates for what they add: a claim grown past requests.storage is refused, one that uses nothing more passes', async () => {
    const ns = 'quota-updates';
    await c.client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } as KubeObject);
    await c.client.create(core('resourcequotas', ns), { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'disk' }, spec: { hard: { 'requests.storage': '5Gi' } } } as KubeObject);
    const claim = (name: string, size: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } } });
    await kubectlOk(kc(), ['create', '-f', '-'], JSON.stringify(claim('a', '2Gi')));
    await kubectlOk(kc(), ['create', '-f', '-'], JSON.stringify(claim('b', '2Gi')));
    const grown = await kubectl(kc(), ['patch', 'pvc', 'b', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { resources: { requests: { storage: '4Gi' } } } })]);
    expect(grown.stderr).toContain('persistentvolumeclaims "b" is forbidden: exceeded quota: disk, requested: requests.storage=2Gi, used: requests.storage=4Gi, limited: requests.storage=5Gi');
    // A label change adds nothing: it passes even with the quota full.
    await kubectlOk(kc(), ['label', 'pvc', 'b', '-n', ns, 'tier=db']);
  });

  it('reports hard and used in the quota status', async () => {
    const status = await waitFor('quota status', async () => {
      const q = await c.client.get<ResourceQuota>(core('resourcequotas', NS, 'small'));
      return q.status?.used?.services === '1' && q.status;
    }, 20_000);
    expect(status).toEqual({ hard: { pods: '2', 'requests.cpu': '2', services: '1' }, used: { pods: '2', 'requests.cpu': '800m', services: '1' } });
    // deleting a pod frees its share for the next create
    await kubectlOk(kc(), ['delete', 'pod', 'one', '-n', NS, '--grace-period=0', '--force']);
    await kubectlOk(kc(), ['create', '-f', '-'], pod('three', '400m'));
  });
});
