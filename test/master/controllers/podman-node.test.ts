import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Deployment } from 'kubernetes-types/apps/v1';
import { apps, core } from '../../../kube/resource-path';
import { deleteObject } from '../../../master/controllers/delete-object';
import { bundleAgent, spawnPodmanAgent, type AgentProcess } from '../../agent/agent-process';
import { ensureTestImage, removeLabelledContainers, startPodmanService, type PodmanService } from '../../support/podman';
import { isRunningReady, listPods, startCluster, waitFor, type TestCluster } from './cluster';

const NODE = `ctrl-podman-${process.pid}`;

/** The controllers driving a real agent with real containers (podman), not only hollow nodes. */
describe('controllers with a real podman node', () => {
  let podman: PodmanService | undefined;
  let c: TestCluster | undefined;
  let agent: AgentProcess | undefined;
  let bundle = '';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-ctrl-podman-'));

  beforeAll(async () => {
    podman = await startPodmanService();
    c = await startCluster({ nodes: 0 });
    bundle = await bundleAgent();
    agent = spawnPodmanAgent(bundle, { server: c.master.url, caPem: c.master.caPem, joinToken: c.master.joinToken, node: NODE, dir, endpoint: podman.endpoint });
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await removeLabelledContainers(`io.lotse.node=${NODE}`);
    await c?.stop();
    await podman?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    if (bundle) fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
  }, 60_000);

  it('converges a Deployment to running containers and replaces a deleted pod', async () => {
    const cluster = c as TestCluster;
    const image = await ensureTestImage();
    await waitFor('the podman node Ready', async () => {
      const n = await cluster.client.get(core('nodes', undefined, NODE)).catch(() => undefined);
      return (n as { status?: { conditions?: { type: string; status: string }[] } } | undefined)?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    }, 30_000);
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
    await deleteObject(cluster.client, core('pods', 'default', victim));
    await waitFor('the deleted pod gone and replaced by a running one', async () => {
      const p = await listPods(cluster.client, 'default', 'app=real');
      return !p.some((x) => x.metadata?.name === victim) && p.filter(isRunningReady).length === 2;
    }, 60_000);
  }, 120_000);
});
