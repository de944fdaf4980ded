import { kubectl, kubectlOk } from '../../support/kubectl';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(120_000);

interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  fieldsV1: Record<string, unknown>;
}

const configMap = (name: string, data: Record<string, string>, labels: Record<string, string> = {}): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(Object.keys(labels).length > 0 ? { labels } : {}) }, data });

const deployment = (ports: number[], env: string[]): string =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ssa-web', labels: { app: 'ssa-web' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'ssa-web' } },
      template: {
        metadata: { labels: { app: 'ssa-web' } },
        spec: {
          containers: [
            { name: 'main', image: 'localhost/lotse-busybox:test', ports: ports.map((containerPort) => ({ containerPort })), env: env.map((name) => ({ name, value: name.toLowerCase() })) },
            { name: 'sidecar', image: 'localhost/lotse-busybox:test' },
          ],
        },
      },
    },
  });

describe.each(storeKinds)('server-side apply with kubectl 1.32 on %s', (store) => {
  let m: TestMaster;
  let kc: string;
  const apply = (manifest: string, ...flags: string[]): Promise<string> => kubectlOk(kc, ['apply', '--server-side', ...flags, '-f', '-'], manifest);
  const getJson = async (...what: string[]): Promise<Record<string, any>> => JSON.parse(await kubectlOk(kc, ['get', ...what, '-o', 'json', '--show-managed-fields']));
  const entry = (obj: Record<string, any>, manager: string): ManagedFieldsEntry | undefined => (obj.metadata.managedFields as ManagedFieldsEntry[]).find((e) => e.manager === manager);

  beforeAll(async () => {
    m = await startTestMaster({ store });
    kc = m.kubeconfigPath;
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('a key and a label dropped from the configuration are removed on re-apply', async () => {
    await apply(configMap('drop', { a: '1', b: '2' }, { tier: 'x', keep: 'y' }));
    await apply(configMap('drop', { a: '1' }, { keep: 'y' }));
    const cm = await getJson('cm', 'drop');
    expect(cm.data).toEqual({ a: '1' });
    expect(cm.metadata.labels).toEqual({ keep: 'y' });
    expect(entry(cm, 'kubectl')).toMatchObject({ operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:keep': {} } } } });
  });

  test('what another manager set survives the first manager dropping it', async () => {
    await apply(configMap('shared', { a: '1', b: '2' }));
    await kubectlOk(kc, ['label', 'cm', 'shared', 'team=core']);
    await kubectlOk(kc, ['patch', 'cm', 'shared', '-p', '{"data":{"c":"3"}}']);
    await apply(configMap('shared', { a: '1' }));
    const cm = await getJson('cm', 'shared');
    expect(cm.data).toEqual({ a: '1', c: '3' });
    expect(cm.metadata.labels).toEqual({ team: 'core' });
    expect(entry(cm, 'kubectl-label')).toMatchObject({ operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} } } } });
    expect(entry(cm, 'kubectl-patch')).toMatchObject({ operation: 'Update', fieldsV1: { 'f:data': { 'f:c': {} } } });
  });

  test('a container port and an env var dropped from a Deployment are removed, the rest stays', async () => {
    await apply(deployment([8080, 9090], ['MODE', 'EXTRA']));
    await kubectlOk(kc, ['set', 'env', 'deployment/ssa-web', '-c', 'main', 'OTHER=1']);
    await apply(deployment([8080], ['MODE']));
    const d = await getJson('deploy', 'ssa-web');
    const containers = d.spec.template.spec.containers as { name: string; ports?: { containerPort: number }[]; env?: { name: string }[] }[];
    expect(containers.map((c) => c.name)).toEqual(['main', 'sidecar']);
    const main = containers[0];
    expect(main.ports?.map((p) => p.containerPort)).toEqual([8080]);
    expect(main.env?.map((e) => e.name).sort()).toEqual(['MODE', 'OTHER']);
    expect(d.spec.replicas).toBe(1);
  });

  test('a second manager changing a field conflicts; --force-conflicts takes it over', async () => {
    await apply(configMap('owned', { k: 'a' }), '--field-manager=a');
    const refused = await kubectl(kc, ['apply', '--server-side', '--field-manager=b', '-f', '-'], configMap('owned', { k: 'b' }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Apply failed with 1 conflict: conflict with "a": .data.k');
    expect(refused.stderr).toContain('--force-conflicts');
    expect((await getJson('cm', 'owned')).data).toEqual({ k: 'a' });

    await apply(configMap('owned', { k: 'b' }), '--field-manager=b', '--force-conflicts');
    const cm = await getJson('cm', 'owned');
    expect(cm.data).toEqual({ k: 'b' });
    expect(entry(cm, 'b')).toMatchObject({ operation: 'Apply', fieldsV1: { 'f:data': { 'f:k': {} } } });
    expect(entry(cm, 'a')).toBeUndefined();
  });

  test('applying the same value as another manager shares the field without a conflict', async () => {
    await apply(configMap('same', { k: 'v' }), '--field-manager=a');
    await apply(configMap('same', { k: 'v' }), '--field-manager=b');
    const cm = await getJson('cm', 'same');
    expect(entry(cm, 'a')?.fieldsV1).toEqual({ 'f:data': { 'f:k': {} } });
    expect(entry(cm, 'b')?.fieldsV1).toEqual({ 'f:data': { 'f:k': {} } });
    // Dropped by a, kept because b applies it too.
    await apply(configMap('same', {}), '--field-manager=a');
    expect((await getJson('cm', 'same')).data).toEqual({ k: 'v' });
  });

  test('after client-side apply, another field manager conflicts with kubectl-client-side-apply', async () => {
    await kubectlOk(kc, ['apply', '-f', '-'], configMap('csa', { k: '1' }));
    const created = await getJson('cm', 'csa');
    expect(entry(created, 'kubectl-client-side-apply')).toMatchObject({ operation: 'Update' });
    const refused = await kubectl(kc, ['apply', '--server-side', '--field-manager=mine', '-f', '-'], configMap('csa', { k: '2' }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('conflict with "kubectl-client-side-apply" using v1: .data.k');
  });

  test('kubectl apply --server-side takes over from client-side apply without a conflict, as Kubernetes documents', async () => {
    await kubectlOk(kc, ['apply', '-f', '-'], configMap('upgrade', { k: '1', n: '1' }));
    expect(await apply(configMap('upgrade', { k: '2', n: '1' }))).toContain('serverside-applied');
    const cm = await getJson('cm', 'upgrade');
    expect(cm.data).toEqual({ k: '2', n: '1' });
    expect(entry(cm, 'kubectl')?.fieldsV1).toMatchObject({ 'f:data': { 'f:k': {}, 'f:n': {} } });
    // The last-applied annotation follows, so client-side apply can take over again.
    expect(JSON.parse(cm.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).data).toEqual({ k: '2', n: '1' });
    // A field someone else changed since is not vouched for by the annotation: that still conflicts.
    await kubectlOk(kc, ['patch', 'cm', 'upgrade', '-p', '{"data":{"n":"9"}}']);
    await kubectlOk(kc, ['apply', '-f', '-'], configMap('upgrade2', { n: '1' }));
    await kubectlOk(kc, ['patch', 'cm', 'upgrade2', '-p', '{"data":{"n":"9"}}']);
    const refused = await kubectl(kc, ['apply', '--server-side', '-f', '-'], configMap('upgrade2', { n: '2' }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('conflict with "kubectl-patch" using v1: .data.n');
  });

  test('writes are recorded as Update entries for their field manager, merged per manager', async () => {
    await kubectlOk(kc, ['create', 'cm', 'upd', '--from-literal=a=1']);
    await kubectlOk(kc, ['label', 'cm', 'upd', 'x=1']);
    await kubectlOk(kc, ['label', 'cm', 'upd', 'y=1']);
    const cm = await getJson('cm', 'upd');
    expect(entry(cm, 'kubectl-create')).toMatchObject({ operation: 'Update', fieldsV1: { 'f:data': { '.': {}, 'f:a': {} } } });
    expect(cm.metadata.managedFields.filter((e: ManagedFieldsEntry) => e.manager === 'kubectl-label')).toHaveLength(1);
    expect(entry(cm, 'kubectl-label')?.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {}, 'f:y': {} } } });
  });

  test('dry-run applies report the result without storing it', async () => {
    await apply(configMap('dry', { a: '1', b: '2' }));
    const out = JSON.parse(await kubectlOk(kc, ['apply', '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'], configMap('dry', { a: '1' })));
    expect(out.data).toEqual({ a: '1' });
    expect((await getJson('cm', 'dry')).data).toEqual({ a: '1', b: '2' });
  });
});
