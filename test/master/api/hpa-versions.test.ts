import { apps } from '../../../kube/resource-path';
import { kubectlAt, kubectlOk, kubectlVersions } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

/** autoscaling/v1 and v2 are two views of one stored object, each written and read in its own form. */
describe('HorizontalPodAutoscaler versions', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster();
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('a v1 object reads back in v2 with its CPU target as a metric, and v2-only fields survive a v1 round trip in annotations', async () => {
    const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, targetCPUUtilizationPercentage: 60 } };
    await kubectlOk(m.kubeconfigPath, ['apply', '-f', '-'], JSON.stringify(v1));
    const asV2 = JSON.parse(await kubectlOk(m.kubeconfigPath, ['get', '--raw', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web'])) as { apiVersion: string; spec: Record<string, unknown> };
    expect(asV2.apiVersion).toBe('autoscaling/v2');
    expect(asV2.spec).toMatchObject({ minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }] });
    expect(asV2.spec.targetCPUUtilizationPercentage).toBeUndefined();

    const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };
    await kubectlOk(m.kubeconfigPath, ['patch', 'horizontalpodautoscalers.v2.autoscaling', 'web', '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/metrics/-', value: memory }])]);
    const asV1 = JSON.parse(await kubectlOk(m.kubeconfigPath, ['get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web'])) as { apiVersion: string; spec: Record<string, unknown>; metadata: { annotations: Record<string, string> } };
    expect(asV1.apiVersion).toBe('autoscaling/v1');
    expect(asV1.spec).toEqual({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 });
    expect(JSON.parse(asV1.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics'])).toEqual([memory]);

    // A v1 client edits what it sees; the memory metric it cannot see is kept.
    await kubectlOk(m.kubeconfigPath, ['patch', 'horizontalpodautoscalers.v1.autoscaling', 'web', '--type=merge', '-p', JSON.stringify({ spec: { targetCPUUtilizationPercentage: 70 } })]);
    const after = JSON.parse(await kubectlOk(m.kubeconfigPath, ['get', '--raw', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web'])) as { spec: { metrics: unknown[] } };
    expect(after.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }, memory]);
    const listed = await kubectlOk(m.kubeconfigPath, ['get', 'hpa']);
    expect(listed.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    expect(listed).toContain('cpu: <unknown>/70%, memory: <unknown>/100Mi');
  });

  // kubectl autoscale sends protobuf: an autoscaling/v1 object before 1.33, v2 from 1.33 on.
  const versions = [...kubectlVersions()].filter(([minor]) => ['1.27', '1.32', '1.33'].includes(minor));
  test.each(versions)('kubectl %s autoscale creates an HPA whose v2 form carries the CPU target', async (minor, binary) => {
    const name = `auto-${minor.replace('.', '-')}`;
    await m.client.create(apps('deployments', 'default'), { metadata: { name }, spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } as never);
    await kubectlAt(binary).ok(m.kubeconfigPath, ['autoscale', 'deployment', name, '--min=2', '--max=6', '--cpu-percent=55']);
    const hpa = JSON.parse(await kubectlOk(m.kubeconfigPath, ['get', '--raw', `/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/${name}`])) as { spec: Record<string, unknown> };
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 55 } } }],
    });
  });
});
