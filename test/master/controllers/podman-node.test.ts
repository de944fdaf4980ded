import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Event } from 'kubernetes-types/core/v1';
import { apps, core } from '../../../kube/resource-path';
import { deleteObject } from '../../../master/controllers/delete-object';
import { ensureTestImage } from '../../support/podman';
import { startPodmanNode, type PodmanNode } from '../../support/podman-node';
import { isRunningReady, listPods, waitFor, waitNodeReady } from './cluster';

const NODE = `ctrl-podman-${process.pid}`;

/** The controllers driving a real agent with real containers (podman), not only hollow nodes. */
describe('controllers with a real podman node', () => {
  let node: PodmanNode | undefined;

  beforeAll(async () => {
    node = await startPodmanNode(NODE);
  }, 90_000);

  afterAll(async () => {
    await node?.stop();
  }, 60_000);

  it('converges a Deployment to running containers and replaces a deleted pod', async () => {
    const cluster = (node as PodmanNode).cluster;
    const image = await ensureTestImage();
    await waitNodeReady(cluster.client, NODE);
    await cluster.client.create(apps('deployments', 'default'), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'real', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'real' } },
        template: { metadata: { labels: { app: 'real' } }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image, command: ['sh', '-c', 'exec sleep 3600'] }] } },
      },
    } as Deployment);
    const pods = await waitFor('2 running containers', async () => {
      const p = (await listPods(cluster.client, 'default', 'app=real')).filter(isRunningReady);
      return p.length === 2 && p;
    }, 60_000);
    expect(pods.every((p) => p.spec?.nodeName === NODE && p.status?.containerStatuses?.[0]?.state?.running)).toBe(true);

    const victim = pods[0].metadata?.name ?? '';
    // The agent records through the same EventRecorder as the controllers: events name the kubelet on this node.
    const kubeletEvent = (reason: string) => async () => {
      const events = await cluster.client.list<Event>(core('events', 'default'));
      return events.items.find((e) => e.reason === reason && e.involvedObject.name === victim && e.source?.component === 'kubelet' && e.reportingInstance === NODE);
    };
    const started = await waitFor('a Started event from the agent', kubeletEvent('Started'), 10_000);
    expect(started.message).toBe('Started container main');
    await deleteObject(cluster.client, core('pods', 'default', victim));
    await waitFor('a Killing event from the agent', kubeletEvent('Killing'), 10_000);
    await waitFor('the deleted pod gone and replaced by a running one', async () => {
      const p = await listPods(cluster.client, 'default', 'app=real');
      return !p.some((x) => x.metadata?.name === victim) && p.filter(isRunningReady).length === 2;
    }, 60_000);
  }, 120_000);
});
