import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../../../kube/object';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

const classes: ResourceRef = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };
const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'img' }], ...extra } } as KubeObject);

/** PriorityClasses and the Priority admission, as kube-apiserver applies them. */
describe('pod priority', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster();
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('the system classes exist and give their value to pods that name them', async () => {
    expect(await kubectlOk(m.kubeconfigPath, ['get', 'priorityclass', 'system-node-critical', '-o', 'jsonpath={.value}'])).toBe('2000001000');
    const p = await m.client.create<Pod>(core('pods', 'default'), pod('critical', { priorityClassName: 'system-cluster-critical' }));
    expect(p.spec).toMatchObject({ priority: 2000000000, preemptionPolicy: 'PreemptLowerPriority' });
  });

  test('no class gives 0, a globalDefault class gives its own; an unknown class or a hand-set priority is refused', async () => {
    expect((await m.client.create<Pod>(core('pods', 'default'), pod('plain'))).spec?.priority).toBe(0);
    await m.client.create(classes, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'normal' }, value: 1000, globalDefault: true } as KubeObject);
    expect((await m.client.create<Pod>(core('pods', 'default'), pod('defaulted'))).spec).toMatchObject({ priorityClassName: 'normal', priority: 1000 });
    const unknown = await kubectl(m.kubeconfigPath, ['create', '-f', '-'], JSON.stringify(pod('lost', { priorityClassName: 'nope' })));
    expect(unknown.stderr).toContain('pods "lost" is forbidden: no PriorityClass with name nope was found');
    const forced = await kubectl(m.kubeconfigPath, ['create', '-f', '-'], JSON.stringify(pod('forced', { priority: 5 })));
    expect(forced.stderr).toContain('the integer value of priority (5) must not be provided in pod spec');
  });
});
