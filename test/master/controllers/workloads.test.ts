import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Event, Pod } from 'kubernetes-types/core/v1';
import { apps, core } from '../../../kube/resource-path';
import { deleteObject } from '../../../master/controllers/delete-object';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { isRunningReady, listPods, startCluster, waitFor, type TestCluster } from './cluster';

const deployment = (name: string, replicas: number, image: string, extra: Partial<Deployment['spec']> = {}): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
    ...extra,
  },
});

describe('controllers on hollow nodes', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ nodes: 3 });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  const runningPods = async (selector: string): Promise<Pod[]> => (await listPods(c.client, 'default', selector)).filter(isRunningReady);

  it('converges a Deployment of 3, spread across nodes, and replaces a deleted pod', async () => {
    await c.client.create(apps('deployments', 'default'), deployment('web', 3, 'img:a'));
    const pods = await waitFor('3 running web pods', async () => {
      const p = await runningPods('app=web');
      return p.length === 3 && p;
    });
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(3);
    const d = await waitFor('deployment available', async () => {
      const d = await c.client.get<Deployment>(apps('deployments', 'default', 'web'));
      return d.status?.availableReplicas === 3 && d.status.observedGeneration === d.metadata?.generation && d;
    });
    expect(d.status?.conditions?.find((x) => x.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');

    const victim = pods[0].metadata?.name ?? '';
    await deleteObject(c.client, core('pods', 'default', victim));
    await waitFor('a replacement pod', async () => {
      const p = await runningPods('app=web');
      return p.length === 3 && !p.some((x) => x.metadata?.name === victim);
    });
    const events = await c.client.list<Event>(core('events', 'default'), { fieldSelector: `involvedObject.name=${pods[1].metadata?.name}` });
    expect(events.items.map((e) => e.reason)).toContain('Scheduled');
  });

  it('rolls out keeping availability within maxUnavailable at every step, then undoes it', async () => {
    const name = 'roll';
    await c.client.create(apps('deployments', 'default'), deployment(name, 4, 'img:a', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    await waitFor('4 running', async () => (await runningPods(`app=${name}`)).length === 4);
    // Count ready pods from a watch: every change is seen, not samples between sleeps.
    const ready = new Map<string, boolean>();
    let minReady = Infinity;
    let maxTotal = 0;
    const list = await c.client.list<Pod>(core('pods', 'default'), { labelSelector: `app=${name}` });
    for (const p of list.items) ready.set(p.metadata?.name ?? '', isRunningReady(p));
    const watch = c.client.watch<Pod>(core('pods', 'default'), { labelSelector: `app=${name}`, resourceVersion: list.metadata.resourceVersion }, (ev) => {
      const key = ev.object.metadata?.name ?? '';
      if (ev.type === 'DELETED') ready.delete(key);
      else ready.set(key, isRunningReady(ev.object));
      minReady = Math.min(minReady, [...ready.values()].filter(Boolean).length);
      maxTotal = Math.max(maxTotal, [...ready.keys()].length);
    });
    try {
      await kubectlOk(c.master.kubeconfigPath, ['set', 'image', `deployment/${name}`, 'main=img:b']);
      await kubectlOk(c.master.kubeconfigPath, ['rollout', 'status', `deployment/${name}`, '--timeout=60s']);
      const pods = await runningPods(`app=${name}`);
      expect(pods.map((p) => p.spec?.containers[0].image)).toEqual(['img:b', 'img:b', 'img:b', 'img:b']);
      expect(minReady).toBeGreaterThanOrEqual(3);

      await kubectlOk(c.master.kubeconfigPath, ['rollout', 'undo', `deployment/${name}`]);
      await kubectlOk(c.master.kubeconfigPath, ['rollout', 'status', `deployment/${name}`, '--timeout=60s']);
      await waitFor('all pods back on img:a', async () => {
        const p = await listPods(c.client, 'default', `app=${name}`);
        return p.length === 4 && p.every((x) => isRunningReady(x) && x.spec?.containers[0].image === 'img:a');
      });
      expect(minReady).toBeGreaterThanOrEqual(3);
    } finally {
      watch.stop();
    }
    const d = await c.client.get<Deployment>(apps('deployments', 'default', name));
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const rss = await c.client.list<ReplicaSet>(apps('replicasets', 'default'), { labelSelector: `app=${name}` });
    expect(rss.items).toHaveLength(2);
    const history = await kubectlOk(c.master.kubeconfigPath, ['rollout', 'history', `deployment/${name}`]);
    expect(history).toMatch(/2\s.*\n3\s/);
  });

  it('scales, pauses and resumes, and recreates without overlap', async () => {
    const name = 'rec';
    await c.client.create(apps('deployments', 'default'), deployment(name, 2, 'img:a', { strategy: { type: 'Recreate' } }));
    await waitFor('2 running', async () => (await runningPods(`app=${name}`)).length === 2);
    await kubectlOk(c.master.kubeconfigPath, ['scale', `deployment/${name}`, '--replicas=3']);
    await waitFor('3 running', async () => (await runningPods(`app=${name}`)).length === 3);

    await kubectlOk(c.master.kubeconfigPath, ['rollout', 'pause', `deployment/${name}`]);
    await kubectlOk(c.master.kubeconfigPath, ['set', 'image', `deployment/${name}`, 'main=img:b']);
    const paused = await waitFor('paused condition', async () => {
      const d = await c.client.get<Deployment>(apps('deployments', 'default', name));
      return d.status?.observedGeneration === d.metadata?.generation && d.status?.conditions?.find((x) => x.reason === 'DeploymentPaused') && d;
    });
    expect(paused.status?.updatedReplicas).toBe(0);
    expect((await c.client.list<ReplicaSet>(apps('replicasets', 'default'), { labelSelector: `app=${name}` })).items).toHaveLength(1);

    // Recreate: no new pod may exist while an old one runs; watched, not sampled. As in Kubernetes, an
    // old pod counts until it is deleted or has terminated (phase Succeeded/Failed): a terminated pod
    // runs nothing, and the controller may go on while its object is still being removed.
    const images = new Map<string, string>();
    let overlap = false;
    const list = await c.client.list<Pod>(core('pods', 'default'), { labelSelector: `app=${name}` });
    for (const p of list.items) images.set(p.metadata?.name ?? '', p.spec?.containers[0].image ?? '');
    const watch = c.client.watch<Pod>(core('pods', 'default'), { labelSelector: `app=${name}`, resourceVersion: list.metadata.resourceVersion }, (ev) => {
      const phase = ev.object.status?.phase;
      if (ev.type === 'DELETED' || phase === 'Succeeded' || phase === 'Failed') images.delete(ev.object.metadata?.name ?? '');
      else images.set(ev.object.metadata?.name ?? '', ev.object.spec?.containers[0].image ?? '');
      if (new Set(images.values()).size > 1) overlap = true;
    });
    try {
      await kubectlOk(c.master.kubeconfigPath, ['rollout', 'resume', `deployment/${name}`]);
      await kubectlOk(c.master.kubeconfigPath, ['rollout', 'status', `deployment/${name}`, '--timeout=60s']);
    } finally {
      watch.stop();
    }
    const pods = await runningPods(`app=${name}`);
    expect(pods.map((p) => p.spec?.containers[0].image)).toEqual(['img:b', 'img:b', 'img:b']);
    expect(overlap).toBe(false);
  });

  it('reports ProgressDeadlineExceeded when a rollout cannot progress, and rollout status fails', async () => {
    const d = deployment('stuck', 1, 'img:a', { progressDeadlineSeconds: 2 });
    const containers = d.spec?.template.spec?.containers ?? [];
    containers[0].resources = { requests: { memory: '1000Ti' } };
    await c.client.create(apps('deployments', 'default'), d);
    const cond = await waitFor('ProgressDeadlineExceeded', async () => {
      const got = await c.client.get<Deployment>(apps('deployments', 'default', 'stuck'));
      return got.status?.conditions?.find((x) => x.type === 'Progressing' && x.reason === 'ProgressDeadlineExceeded');
    }, 15_000);
    expect(cond.status).toBe('False');
    const status = await kubectl(c.master.kubeconfigPath, ['rollout', 'status', 'deployment/stuck', '--timeout=10s']);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/exceeded its progress deadline/);
    await deleteObject(c.client, apps('deployments', 'default', 'stuck'));
  });

  it('keeps an impossible pod Pending with a FailedScheduling event naming why', async () => {
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'huge', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'img:a', resources: { requests: { memory: '1000Ti' } } }] },
    };
    await c.client.create(core('pods', 'default'), pod);
    const ev = await waitFor('FailedScheduling', async () => {
      const list = await c.client.list<Event>(core('events', 'default'), { fieldSelector: 'involvedObject.name=huge' });
      return list.items.find((e) => e.reason === 'FailedScheduling');
    });
    expect(ev.message).toBe('0/3 nodes are available: 3 Insufficient memory.');
    const got = await c.client.get<Pod>(core('pods', 'default', 'huge'));
    expect(got.spec?.nodeName).toBeUndefined();
    expect(got.status?.conditions?.find((x) => x.type === 'PodScheduled')?.reason).toBe('Unschedulable');
    await deleteObject(c.client, core('pods', 'default', 'huge'));
  });

  it('respects taints and nodeSelector, and retries when a node changes', async () => {
    await c.client.patch(core('nodes', undefined, 'node-0'), 'merge', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
    await c.client.patch(core('nodes', undefined, 'node-1'), 'merge', { metadata: { labels: { disk: 'ssd' } } });
    const pod = (name: string, selector?: Record<string, string>): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { nodeSelector: selector, containers: [{ name: 'c', image: 'img:a' }] },
    });
    await c.client.create(core('pods', 'default'), pod('on-ssd', { disk: 'ssd' }));
    await c.client.create(core('pods', 'default'), pod('on-gpu', { gpu: 'yes' }));
    const placed = await waitFor('on-ssd bound', async () => (await c.client.get<Pod>(core('pods', 'default', 'on-ssd'))).spec?.nodeName);
    expect(placed).toBe('node-1');
    const ev = await waitFor('FailedScheduling for on-gpu', async () => {
      const list = await c.client.list<Event>(core('events', 'default'), { fieldSelector: 'involvedObject.name=on-gpu' });
      return list.items.find((e) => e.reason === 'FailedScheduling');
    });
    expect(ev.message).toBe("0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 node(s) didn't match Pod's node affinity/selector.");
    // A node gaining the label wakes the parked pod: no polling involved.
    await c.client.patch(core('nodes', undefined, 'node-2'), 'merge', { metadata: { labels: { gpu: 'yes' } } });
    expect(await waitFor('on-gpu bound', async () => (await c.client.get<Pod>(core('pods', 'default', 'on-gpu'))).spec?.nodeName)).toBe('node-2');
    for (const n of ['on-ssd', 'on-gpu']) await deleteObject(c.client, core('pods', 'default', n), { gracePeriodSeconds: 0 });
    await c.client.patch(core('nodes', undefined, 'node-0'), 'merge', { spec: { taints: null } });
  });
});
