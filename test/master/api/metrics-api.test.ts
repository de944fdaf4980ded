import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { apps, core } from '../../../kube/resource-path';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { ensureTestImage } from '../../support/podman';
import { startPodmanNode, type PodmanNode } from '../../support/podman-node';
import { waitFor, waitNodeReady } from '../controllers/cluster';

jest.setTimeout(180_000);

const NODE = `metrics-podman-${process.pid}`;

/** The metrics API on a real podman node: kubectl top shows what the containers use. */
describe('metrics.k8s.io and kubectl top', () => {
  let node: PodmanNode;
  let kc: string;

  beforeAll(async () => {
    node = await startPodmanNode(NODE);
    kc = node.cluster.master.kubeconfigPath;
    await waitNodeReady(node.cluster.client, NODE);
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
  }, 60_000);

  const deployment = (name: string, command: string, cpuRequest: string): Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: '', command: ['sh', '-c', command], resources: { requests: { cpu: cpuRequest } } }] } },
    },
  });

  test('kubectl top pods and nodes show each pod\'s CPU and memory; the API answers NodeMetrics and PodMetrics', async () => {
    const image = await ensureTestImage();
    for (const [name, command] of [['burner', 'while :; do :; done'], ['idler', 'sleep 3600']]) {
      const d = deployment(name, command, '100m');
      (d.spec?.template.spec?.containers[0] as { image: string }).image = image;
      await node.cluster.client.create(apps('deployments', 'default'), d);
    }
    await waitFor('both pods running', async () => {
      const pods = (await node.cluster.client.list<Pod>(core('pods', 'default'))).items;
      return pods.filter((p) => p.status?.phase === 'Running').length === 2;
    }, 90_000, 500);

    const discovery = await kubectlOk(kc, ['api-resources', '--api-group=metrics.k8s.io', '--no-headers']);
    expect(discovery.trim().split('\n').map((l) => l.split(/\s+/)[0]).sort()).toEqual(['nodes', 'pods']);

    const top = await waitFor('kubectl top pods with both pods', async () => {
      const r = await kubectl(kc, ['top', 'pods', '--no-headers']);
      return r.code === 0 && r.stdout.includes('burner') && r.stdout.includes('idler') && r.stdout;
    }, 30_000, 1000);
    const millicores = (pod: string): number => Number(/\s(\d+)m\s/.exec(top.split('\n').find((l) => l.startsWith(pod)) ?? '')?.[1] ?? NaN);
    expect(millicores('burner')).toBeGreaterThan(300); // a busy loop takes most of a core
    expect(millicores('idler')).toBeLessThan(50);
    expect(top).toMatch(/burner-\S+\s+\d+m\s+\d+Mi/);

    const nodes = await kubectlOk(kc, ['top', 'node', '--no-headers']);
    expect(nodes).toMatch(new RegExp(`^${NODE}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm'));

    const raw = JSON.parse(await kubectlOk(kc, ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dburner'])) as { kind: string; items: { metadata: { name: string }; window: string; containers: { name: string; usage: { cpu: string; memory: string } }[] }[] };
    expect(raw.kind).toBe('PodMetricsList');
    expect(raw.items).toHaveLength(1);
    expect(raw.items[0].containers[0]).toMatchObject({ name: 'main', usage: { cpu: expect.stringMatching(/^\d+n$/), memory: expect.stringMatching(/^\d+Ki$/) } });
    expect(raw.items[0].window).toMatch(/^\d+(\.\d+)?s$/);
    const one = await kubectl(kc, ['get', '--raw', `/apis/metrics.k8s.io/v1beta1/nodes/${NODE}`]);
    expect(JSON.parse(one.stdout)).toMatchObject({ kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: NODE } });
    const missing = await kubectl(kc, ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('NotFound');
  });
});
