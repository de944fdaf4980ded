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
describe('metrics.k8s.io, kubectl top and HorizontalPodAutoscalers', () => {
  let node: PodmanNode;
  let kc: string;

  beforeAll(async () => {
    node = await startPodmanNode(NODE, { manager: { hpaSyncPeriodMs: 2000 } });
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

  test('kubectl autoscale makes an HPA that scales a busy Deployment up to its maximum, and back down once the load stops', async () => {
    const image = await ensureTestImage();
    const d = deployment('web', 'while :; do :; done', '100m');
    (d.spec?.template.spec?.containers[0] as { image: string }).image = image;
    await node.cluster.client.create(apps('deployments', 'default'), d);
    await kubectlOk(kc, ['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=3']);
    // A short scale-down window, so the test need not wait the default five minutes.
    await kubectlOk(kc, ['patch', 'hpa', 'web', '--type=merge', '-p', JSON.stringify({ apiVersion: 'autoscaling/v2', spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } } })]);
    const replicas = async (): Promise<number> => (await node.cluster.client.get<Deployment>(apps('deployments', 'default', 'web'))).spec?.replicas ?? 0;
    await waitFor('the HPA scaled web to 3', async () => (await replicas()) === 3, 90_000, 1000);
    const hpa = await kubectlOk(kc, ['get', 'hpa', 'web', '--no-headers']);
    expect(hpa).toMatch(/^web\s+Deployment\/web\s+cpu: \d+%\/50%\s+1\s+3\s+\d\s+/);
    const status = JSON.parse(await kubectlOk(kc, ['get', '--raw', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web'])) as { status: { conditions: { type: string; status: string; reason: string }[]; currentMetrics: { resource: { current: { averageUtilization: number } } }[] } };
    expect(status.status.currentMetrics[0].resource.current.averageUtilization).toBeGreaterThan(100);
    expect(status.status.conditions.find((c) => c.type === 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });
    const v1 = JSON.parse(await kubectlOk(kc, ['get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web'])) as { apiVersion: string; spec: { targetCPUUtilizationPercentage: number }; metadata: { annotations: Record<string, string> } };
    expect(v1.apiVersion).toBe('autoscaling/v1');
    expect(v1.spec.targetCPUUtilizationPercentage).toBe(50);
    expect(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/behavior'])).toMatchObject({ scaleDown: { stabilizationWindowSeconds: 0 } });
    const events = await kubectlOk(kc, ['get', 'events', '--field-selector', 'involvedObject.name=web,reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}']);
    expect(events).toContain('New size: 3; reason: cpu resource utilization (percentage of request) above target');

    // The load stops: the pods now sleep, and the HPA brings the Deployment back to its minimum.
    await kubectlOk(kc, ['patch', 'deployment', 'web', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/command', value: ['sh', '-c', 'sleep 3600'] }])]);
    await waitFor('the HPA scaled web back to 1', async () => (await replicas()) === 1, 120_000, 1000);
  });
});
