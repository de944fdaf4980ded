import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../../../kube/object';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { startCluster, waitFor, type TestCluster } from './cluster';

jest.setTimeout(90_000);

const classes: ResourceRef = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };
const pod = (name: string, cpu: string, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { test: 'preemption' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'img', resources: { requests: { cpu } } }], ...extra } }) as KubeObject;

/** Scheduler preemption on one hollow node of 4 CPUs, as Kubernetes' DefaultPreemption. */
describe('preemption', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ nodes: 1 });
    await c.client.create(classes, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 } as KubeObject);
    await c.client.create(classes, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high-never' }, value: 1000, preemptionPolicy: 'Never' } as KubeObject);
    await c.client.create(classes, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'mid' }, value: 500 } as KubeObject);
  });
  afterAll(async () => {
    await c?.stop();
  });

  const get = (name: string) => c.client.get<Pod>(core('pods', 'default', name)).catch(() => undefined);
  const bound = async (name: string) => (await get(name))?.spec?.nodeName;

  test('a high-priority pod that fits nowhere evicts the fewest, least important pods and takes their place', async () => {
    await c.client.create(core('pods', 'default'), pod('low-a', '1500m'));
    await c.client.create(core('pods', 'default'), pod('mid-b', '1500m', { priorityClassName: 'mid' }));
    await waitFor('both placed', async () => (await bound('low-a')) && (await bound('mid-b')));
    // 3000m of 4000m used: a 2000m pod fits only without one of them. The low one goes.
    await c.client.create(core('pods', 'default'), pod('never', '2000m', { priorityClassName: 'high-never' }));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bound('never')).toBeUndefined(); // preemptionPolicy: Never waits instead
    expect(await get('low-a')).toBeDefined();
    await c.client.delete(core('pods', 'default', 'never'));

    await c.client.create(core('pods', 'default'), pod('urgent', '2000m', { priorityClassName: 'high' }));
    await waitFor('urgent placed', async () => bound('urgent'), 30_000);
    expect(await get('low-a')).toBeUndefined();
    expect(await bound('mid-b')).toBeDefined();
    const events = await c.client.list(core('events', 'default'), { fieldSelector: 'involvedObject.name=low-a,reason=Preempted' });
    expect(events.items.length).toBe(1);
    expect((events.items[0] as { message?: string }).message).toMatch(/^Preempted by pod [0-9a-f-]+ on node node-0$/);
  });

  test('a pod cannot preempt pods of its own or higher priority', async () => {
    await c.client.create(core('pods', 'default'), pod('peer', '2000m', { priorityClassName: 'mid' }));
    await waitFor('peer unschedulable', async () => (await get('peer'))?.status?.conditions?.some((x) => x.type === 'PodScheduled' && x.reason === 'Unschedulable'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await bound('mid-b')).toBeDefined();
    expect(await bound('urgent')).toBeDefined();
    expect(await bound('peer')).toBeUndefined();
  });
});
