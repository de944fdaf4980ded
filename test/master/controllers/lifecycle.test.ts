import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { ConfigMap, Endpoints, Event, Namespace, Pod, Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { ApiError } from '../../../kube/api-error';
import { apps, core } from '../../../kube/resource-path';
import { deleteObject } from '../../../master/controllers/delete-object';
import { EventRecorder } from '../../../kube/event-recorder';
import { EventTtlCleaner } from '../../../master/controllers/event-ttl/event-ttl-cleaner';
import { isRunningReady, listPods, startCluster, waitFor, type TestCluster } from './cluster';
import { kubectlOk } from '../../support/kubectl';

const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'main', image: 'img:a', ports: [{ name: 'http', containerPort: 8080 }] }] } });

async function gone(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return false;
  } catch (err) {
    if (ApiError.isNotFound(err)) return true;
    throw err;
  }
}

describe('daemon sets, endpoints, garbage collection and namespaces', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ nodes: 2 });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('runs a DaemonSet pod on every node, including one that joins later', async () => {
    const ds: DaemonSet = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') } };
    await c.client.create(apps('daemonsets', 'default'), ds);
    const nodesOf = async (): Promise<string[]> => (await listPods(c.client, 'default', 'app=agent')).filter(isRunningReady).map((p) => p.spec?.nodeName ?? '').sort();
    await waitFor('a daemon pod on both nodes', async () => JSON.stringify(await nodesOf()) === JSON.stringify(['node-0', 'node-1']));
    await c.addNodes(1, 'late');
    await waitFor('a daemon pod on the late node too', async () => JSON.stringify(await nodesOf()) === JSON.stringify(['late-0', 'node-0', 'node-1']));
    const status = await waitFor('daemonset status', async () => {
      const d = await c.client.get<DaemonSet>(apps('daemonsets', 'default', 'agent'));
      return d.status?.numberReady === 3 && d.status;
    });
    expect(status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 3, numberMisscheduled: 0 });
  });

  it('rolls a DaemonSet to a new template one node at a time', async () => {
    const ready = new Map<string, boolean>();
    let minReady = Infinity;
    const list = await c.client.list<Pod>(core('pods', 'default'), { labelSelector: 'app=agent' });
    for (const p of list.items) ready.set(p.metadata?.name ?? '', isRunningReady(p));
    const watch = c.client.watch<Pod>(core('pods', 'default'), { labelSelector: 'app=agent', resourceVersion: list.metadata.resourceVersion }, (ev) => {
      if (ev.type === 'DELETED') ready.delete(ev.object.metadata?.name ?? '');
      else ready.set(ev.object.metadata?.name ?? '', isRunningReady(ev.object));
      minReady = Math.min(minReady, [...ready.values()].filter(Boolean).length);
    });
    try {
      await c.client.patch(apps('daemonsets', 'default', 'agent'), 'merge', { spec: { template: { spec: { containers: [{ name: 'main', image: 'img:b', ports: [{ name: 'http', containerPort: 8080 }] }] } } } });
      await waitFor('every daemon pod on img:b', async () => {
        const pods = (await listPods(c.client, 'default', 'app=agent')).filter((p) => !p.metadata?.deletionTimestamp);
        return pods.length === 3 && pods.every((p) => isRunningReady(p) && p.spec?.containers[0].image === 'img:b');
      }, 30_000);
    } finally {
      watch.stop();
    }
    // maxUnavailable 1 of 3 nodes: never fewer than 2 ready daemons.
    expect(minReady).toBeGreaterThanOrEqual(2);
    const ds = await waitFor('status updated', async () => {
      const d = await c.client.get<DaemonSet>(apps('daemonsets', 'default', 'agent'));
      return d.status?.updatedNumberScheduled === 3 && d.status.numberAvailable === 3 && d;
    });
    expect(ds.status?.observedGeneration).toBe(ds.metadata?.generation);
  });

  it('records DaemonSet templates as ControllerRevisions: kubectl rollout history lists them and undo brings the old image back', async () => {
    const kc = c.master.kubeconfigPath;
    const history = await waitFor('two revisions', async () => {
      const out = await kubectlOk(kc, ['rollout', 'history', 'daemonset/agent']);
      return /^1\s/m.test(out) && /^2\s/m.test(out) && out;
    });
    expect(history).toContain('REVISION');
    expect(await kubectlOk(kc, ['rollout', 'history', 'daemonset/agent', '--revision=1'])).toContain('img:a');
    await kubectlOk(kc, ['rollout', 'undo', 'daemonset/agent']);
    await waitFor('every daemon pod back on img:a', async () => {
      const pods = (await listPods(c.client, 'default', 'app=agent')).filter((p) => !p.metadata?.deletionTimestamp);
      return pods.length === 3 && pods.every((p) => isRunningReady(p) && p.spec?.containers[0].image === 'img:a');
    }, 30_000);
    // The old template came back as the newest revision, as Kubernetes renumbers it.
    const revisions = await c.client.list<ControllerRevision>(apps('controllerrevisions', 'default'), { labelSelector: 'app=agent' });
    expect(revisions.items.map((r) => r.revision).sort()).toEqual([2, 3]);
  });

  it('publishes ready pods as Endpoints and EndpointSlices with named target ports', async () => {
    await c.client.create(apps('replicasets', 'default'), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'api', namespace: 'default' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: template('api') },
    } as ReplicaSet);
    await c.client.create(core('services', 'default'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'default' }, spec: { selector: { app: 'api' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } } as Service);
    const ep = await waitFor('2 endpoint addresses', async () => {
      const e = await c.client.get<Endpoints>(core('endpoints', 'default', 'api'));
      return e.subsets?.[0]?.addresses?.length === 2 && e;
    });
    expect(ep.subsets?.[0].ports).toEqual([expect.objectContaining({ name: 'web', port: 8080, protocol: 'TCP' })]);
    const pods = (await listPods(c.client, 'default', 'app=api')).map((p) => p.status?.podIP).sort();
    expect(ep.subsets?.[0].addresses?.map((a) => a.ip).sort()).toEqual(pods);
    const slices = await c.client.list<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default' }, { labelSelector: 'kubernetes.io/service-name=api' });
    expect(slices.items).toHaveLength(1);
    expect(slices.items[0].endpoints.map((e) => e.addresses[0]).sort()).toEqual(pods);
  });

  it('adopts a matching orphan pod and releases a pod that stops matching', async () => {
    await c.client.create(core('pods', 'default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: 'default', labels: { app: 'adopt' } }, spec: { containers: [{ name: 'main', image: 'img:a' }] } } as Pod);
    await waitFor('stray running', async () => isRunningReady(await c.client.get<Pod>(core('pods', 'default', 'stray'))));
    const rs = await c.client.create<ReplicaSet>(apps('replicasets', 'default'), { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'adopt', namespace: 'default' }, spec: { replicas: 2, selector: { matchLabels: { app: 'adopt' } }, template: template('adopt') } } as ReplicaSet);
    await waitFor('2 pods of the ReplicaSet', async () => {
      const pods = (await listPods(c.client, 'default', 'app=adopt')).filter(isRunningReady);
      return pods.length === 2 && pods.every((p) => p.metadata?.ownerReferences?.[0]?.uid === rs.metadata?.uid);
    });
    expect((await listPods(c.client, 'default', 'app=adopt')).map((p) => p.metadata?.name)).toContain('stray');
    await c.client.patch(core('pods', 'default', 'stray'), 'merge', { metadata: { labels: { app: 'gone' } } });
    await waitFor('stray released and replaced', async () => {
      const stray = await c.client.get<Pod>(core('pods', 'default', 'stray'));
      const mine = (await listPods(c.client, 'default', 'app=adopt')).filter(isRunningReady);
      return (stray.metadata?.ownerReferences ?? []).length === 0 && mine.length === 2;
    });
    await deleteObject(c.client, core('pods', 'default', 'stray'), { gracePeriodSeconds: 0 });
  });

  it('garbage-collects dependents: background, foreground and orphan', async () => {
    const mkRs = async (name: string): Promise<void> => {
      await c.client.create(apps('replicasets', 'default'), { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: template(name) } } as ReplicaSet);
      await waitFor(`${name} pod`, async () => (await listPods(c.client, 'default', `app=${name}`)).length === 1);
    };
    await mkRs('bg');
    await deleteObject(c.client, apps('replicasets', 'default', 'bg'), { propagationPolicy: 'Background' });
    await waitFor('bg pod deleted', async () => (await listPods(c.client, 'default', 'app=bg')).every((p) => p.metadata?.deletionTimestamp));

    await mkRs('fg');
    await deleteObject(c.client, apps('replicasets', 'default', 'fg'), { propagationPolicy: 'Foreground' });
    await waitFor('fg ReplicaSet gone after its pod', async () => gone(() => c.client.get(apps('replicasets', 'default', 'fg'))), 20_000);
    expect(await listPods(c.client, 'default', 'app=fg')).toEqual([]);

    await mkRs('orph');
    await deleteObject(c.client, apps('replicasets', 'default', 'orph'), { propagationPolicy: 'Orphan' });
    await waitFor('orph ReplicaSet gone', async () => gone(() => c.client.get(apps('replicasets', 'default', 'orph'))));
    const left = await listPods(c.client, 'default', 'app=orph');
    expect(left).toHaveLength(1);
    expect(left[0].metadata?.ownerReferences ?? []).toEqual([]);
    expect(left[0].metadata?.deletionTimestamp).toBeUndefined();
  });

  it('deletes a Deployment with its ReplicaSets and pods', async () => {
    await c.client.create(apps('deployments', 'default'), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'tmp', namespace: 'default' }, spec: { replicas: 2, selector: { matchLabels: { app: 'tmp' } }, template: template('tmp') } } as Deployment);
    await waitFor('2 tmp pods', async () => (await listPods(c.client, 'default', 'app=tmp')).filter(isRunningReady).length === 2);
    await deleteObject(c.client, apps('deployments', 'default', 'tmp'));
    await waitFor('tmp pods and ReplicaSets gone', async () => {
      const rs = await c.client.list<ReplicaSet>(apps('replicasets', 'default'), { labelSelector: 'app=tmp' });
      return rs.items.length === 0 && (await listPods(c.client, 'default', 'app=tmp')).length === 0;
    });
  });

  it('empties a terminating namespace, then removes it', async () => {
    await c.client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } } as Namespace);
    await c.client.create(core('configmaps', 'scratch'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'scratch' }, data: { a: 'b' } } as ConfigMap);
    await c.client.create(core('pods', 'scratch'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'scratch' }, spec: { containers: [{ name: 'c', image: 'img:a' }] } } as Pod);
    await waitFor('pod running', async () => isRunningReady(await c.client.get<Pod>(core('pods', 'scratch', 'p'))));
    await deleteObject(c.client, core('namespaces', undefined, 'scratch'));
    await waitFor('namespace gone', async () => gone(() => c.client.get(core('namespaces', undefined, 'scratch'))), 30_000);
    expect(await gone(() => c.client.get(core('configmaps', 'scratch', 'cfg')))).toBe(true);
  });

  it('folds repeated events into one with a count, and expires old ones', async () => {
    const recorder = new EventRecorder(c.client, { component: 'test' });
    const ref = { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'ghost', uid: 'ghost-uid' };
    recorder.record(ref, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await recorder.flush();
    recorder.record(ref, 'Warning', 'BackOff', 'Back-off restarting failed container');
    recorder.record(ref, 'Warning', 'BackOff', 'Back-off restarting failed container');
    recorder.record(ref, 'Normal', 'Pulled', 'Container image already present');
    await recorder.flush();
    const events = (await c.client.list<Event>(core('events', 'default'), { fieldSelector: 'involvedObject.name=ghost' })).items;
    expect(events.map((e) => [e.reason, e.count]).sort()).toEqual([['BackOff', 3], ['Pulled', 1]]);
    const backOff = events.find((e) => e.reason === 'BackOff');
    expect(Date.parse(backOff?.lastTimestamp ?? '')).toBeGreaterThanOrEqual(Date.parse(backOff?.firstTimestamp ?? ''));

    const cleaner = new EventTtlCleaner({ client: c.client, informers: undefined as never, recorder: () => recorder, log: () => undefined }, { ttlMs: 60_000 });
    // Seen from two minutes ahead, these events are older than the one-minute TTL.
    expect(await cleaner.sweep(Date.now() + 120_000)).toBeGreaterThanOrEqual(2);
    expect((await c.client.list<Event>(core('events', 'default'), { fieldSelector: 'involvedObject.name=ghost' })).items).toEqual([]);
  });
});
