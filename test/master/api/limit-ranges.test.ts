import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../../../kube/object';
import { core } from '../../../kube/resource-path';
import { kubectl } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

const pod = (name: string, resources?: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'main', image: 'img', ...(resources ? { resources } : {}) }] } } as KubeObject);

/** LimitRanges and the LimitRanger admission, as kube-apiserver applies them to new pods. */
describe('limit ranges', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster();
    await m.client.create(core('limitranges', 'default'), {
      apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits' },
      spec: { limits: [{ type: 'Container', max: { cpu: '1' }, default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' }, min: { memory: '16Mi' } }] },
    } as KubeObject);
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('the API fills the range\'s own defaults (defaultRequest from default)', async () => {
    const lr = await m.client.get<KubeObject & { spec: { limits: { defaultRequest: Record<string, string> }[] } }>(core('limitranges', 'default', 'limits'));
    expect(lr.spec.limits[0].defaultRequest).toEqual({ cpu: '100m', memory: '256Mi' });
  });

  test('a pod without resources gets the defaults, says so, and is Burstable', async () => {
    const p = await m.client.create<Pod>(core('pods', 'default'), pod('defaulted'));
    expect(p.spec?.containers[0].resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(p.metadata?.annotations?.['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu, memory request for container main; cpu, memory limit for container main');
    expect(p.status?.qosClass).toBe('Burstable');
  });

  test('a pod over the maximum or under the minimum is refused, naming the rule', async () => {
    const over = await kubectl(m.kubeconfigPath, ['create', '-f', '-'], JSON.stringify(pod('greedy', { limits: { cpu: '2' } })));
    expect(over.stderr).toContain('pods "greedy" is forbidden: [maximum cpu usage per Container is 1, but limit is 2]');
    const under = await kubectl(m.kubeconfigPath, ['create', '-f', '-'], JSON.stringify(pod('tiny', { requests: { memory: '1Mi' }, limits: { memory: '8Mi' } })));
    expect(under.stderr).toContain('minimum memory usage per Container is 16Mi, but request is 1Mi');
  });
});
