import https from 'node:https';
import { kubectl, kubectlOk, kubectlStream } from '../../support/kubectl';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(120_000);

const deployment = (replicas: number, env: string, ports: number[]): string => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: main
        image: localhost/lotse-busybox:test
        env:
        - {name: MODE, value: "${env}"}
        - {name: KEEP, value: "yes"}
        ports:
${ports.map((p) => `        - containerPort: ${p}`).join('\n')}
      - name: sidecar
        image: localhost/lotse-busybox:test
`;

function raw(m: TestMaster, method: string, path: string, body?: string, headers: Record<string, string> = {}, token = m.adminToken): Promise<{ status: number; body: string }> {
  const url = new URL(m.url);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: url.port, path, method, ca: m.caPem, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(storeKinds)('kubectl 1.32 against a lotse master on %s', (store) => {
  let m: TestMaster;
  let kc: string;

  beforeAll(async () => {
    m = await startTestMaster({ store });
    kc = m.kubeconfigPath;
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('discovery lists the served resources with short names and the all category', async () => {
    const out = await kubectlOk(kc, ['api-resources']);
    expect(out).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(out).toMatch(/leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease/);
    expect(out).toMatch(/endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice/);
    const ns = await kubectlOk(kc, ['get', 'ns', '-o', 'name']);
    expect(ns.split('\n')).toEqual(expect.arrayContaining(['namespace/default', 'namespace/kube-system', 'namespace/kube-node-lease']));
  });

  test('client-side apply creates, then three-way merges by merge key', async () => {
    expect(await kubectlOk(kc, ['apply', '-f', '-'], deployment(2, 'a', [8080, 9090]))).toContain('deployment.apps/web created');
    // Someone else adds an env var; apply must keep it (it is not in last-applied) ...
    await kubectlOk(kc, ['set', 'env', 'deployment/web', '-c', 'main', 'EXTRA=1']);
    // ... while a port dropped from the file is removed and a changed value is updated.
    expect(await kubectlOk(kc, ['apply', '-f', '-'], deployment(3, 'b', [8080]))).toContain('deployment.apps/web configured');
    const d = JSON.parse(await kubectlOk(kc, ['get', 'deploy', 'web', '-o', 'json']));
    const main = d.spec.template.spec.containers.find((c: { name: string }) => c.name === 'main');
    expect(d.spec.replicas).toBe(3);
    expect(main.env).toEqual(expect.arrayContaining([{ name: 'MODE', value: 'b' }, { name: 'KEEP', value: 'yes' }, { name: 'EXTRA', value: '1' }]));
    expect(main.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([8080]);
    expect(d.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['main', 'sidecar']);
    expect(d.metadata.generation).toBeGreaterThanOrEqual(3);
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same}\ndata: {a: "1"}\n';
    await kubectlOk(kc, ['apply', '-f', '-'], cm);
    expect(await kubectlOk(kc, ['apply', '-f', '-'], cm)).toContain('configmap/same unchanged');
  });

  test('server-side apply creates and updates with a field manager', async () => {
    const cm = (v: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {k: "${v}"}\n`;
    expect(await kubectlOk(kc, ['apply', '--server-side', '-f', '-'], cm('1'))).toContain('configmap/ssa serverside-applied');
    expect(await kubectlOk(kc, ['apply', '--server-side', '-f', '-'], cm('2'))).toContain('serverside-applied');
    const obj = JSON.parse(await kubectlOk(kc, ['get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields']));
    expect(obj.data.k).toBe('2');
    expect(obj.metadata.managedFields[0]).toMatchObject({ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:data': { 'f:k': {} } } });
  });

  test('get prints server-side tables: wide, all namespaces, labels, selectors', async () => {
    await kubectlOk(kc, ['run', 'solo', '--image=localhost/lotse-busybox:test', '--labels=tier=x']);
    const wide = await kubectlOk(kc, ['get', 'pods', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
    expect(wide).toMatch(/solo\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>/);
    const all = await kubectlOk(kc, ['get', 'deploy', '-A', '--show-labels']);
    expect(all).toMatch(/NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+LABELS/);
    expect(all).toMatch(/default\s+web\s+0\/3\s+0\s+0\s+\S+\s+app=web/);
    expect(await kubectlOk(kc, ['get', 'pods', '-l', 'tier=x', '-o', 'name'])).toBe('pod/solo\n');
    expect(await kubectlOk(kc, ['get', 'pods', '-l', 'tier!=x', '-o', 'name'])).toBe('');
    expect((await kubectl(kc, ['get', 'pods', '-l', 'tier=x', '--field-selector', 'spec.nodeName=nowhere'])).stderr).toContain('No resources found');
  });

  test('get -w streams changes as they happen', async () => {
    const watch = kubectlStream(kc, ['get', 'configmaps', '-w', '--output-watch-events']);
    try {
      await watch.waitFor(/ssa/);
      await kubectlOk(kc, ['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\ndata: {a: "1"}\n');
      await watch.waitFor(/ADDED\s+watched/);
      await kubectlOk(kc, ['delete', 'cm', 'watched']);
      await watch.waitFor(/DELETED\s+watched/);
    } finally {
      watch.stop();
    }
  });

  test('describe, label, annotate, patch (strategic, merge, json) and explain', async () => {
    const described = await kubectlOk(kc, ['describe', 'deployment', 'web']);
    expect(described).toMatch(/Replicas:\s+3 desired/);
    expect(described).toMatch(/RollingUpdateStrategy:\s+25% max unavailable, 25% max surge/);
    await kubectlOk(kc, ['label', 'deploy', 'web', 'team=core']);
    await kubectlOk(kc, ['annotate', 'deploy', 'web', 'owner=ops']);
    await kubectlOk(kc, ['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"localhost/lotse-busybox:v2"}]}}}}']);
    await kubectlOk(kc, ['patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"team":null,"stage":"prod"}}}']);
    await kubectlOk(kc, ['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":4}]']);
    const d = JSON.parse(await kubectlOk(kc, ['get', 'deploy', 'web', '-o', 'json']));
    expect(d.metadata.labels).toEqual({ app: 'web', stage: 'prod' });
    expect(d.metadata.annotations.owner).toBe('ops');
    expect(d.spec.replicas).toBe(4);
    expect(d.spec.template.spec.containers.map((c: { image: string }) => c.image)).toEqual(['localhost/lotse-busybox:test', 'localhost/lotse-busybox:v2']);
    const explain = await kubectlOk(kc, ['explain', 'deployment.spec.replicas']);
    expect(explain).toMatch(/KIND:\s+Deployment/);
    expect(explain).toMatch(/FIELD:\s+replicas <integer>/);
  });

  test('scale through the scale subresource', async () => {
    await kubectlOk(kc, ['scale', 'deployment', 'web', '--replicas=1']);
    expect(JSON.parse(await kubectlOk(kc, ['get', 'deploy', 'web', '-o', 'json'])).spec.replicas).toBe(1);
  });

  test('delete waits until the object is gone; pending pods go at once', async () => {
    expect(await kubectlOk(kc, ['delete', 'pod', 'solo', '--wait=true'])).toContain('pod "solo" deleted');
    expect((await kubectl(kc, ['get', 'pod', 'solo'])).stderr).toContain('pods "solo" not found');
    expect(await kubectlOk(kc, ['delete', 'deploy', 'web'])).toContain('deployment.apps "web" deleted');
  });

  test('dry-run=server validates without persisting', async () => {
    await kubectlOk(kc, ['apply', '--dry-run=server', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {a: "1"}\n');
    expect((await kubectl(kc, ['get', 'cm', 'dry'])).code).not.toBe(0);
  });

  test('invalid objects are refused with a 422 that names each bad field', async () => {
    const bad = 'apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name, labels: {"ok": "no spaces allowed"}}\nspec:\n  containers:\n  - name: c\n    ports: [{containerPort: 70000}]\n';
    const r = await kubectl(kc, ['apply', '-f', '-'], bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('is invalid');
    expect(r.stderr).toContain('metadata.name');
    expect(r.stderr).toContain('spec.containers[0].image: Required value');
    expect(r.stderr).toContain('spec.containers[0].ports[0].containerPort');
    expect(r.stderr).toContain('metadata.labels');
  });

  test('unknown fields fail strict field validation, as kubectl asks by default', async () => {
    const r = await kubectl(kc, ['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatta: {a: "1"}\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "datta"');
    const ignored = await kubectl(kc, ['apply', '--validate=false', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatta: {a: "1"}\n');
    expect(ignored.code).toBe(0);
  });

  test('malformed, oversized and mismatched bodies get a clear 4xx Status, and the server keeps serving', async () => {
    const malformed = await raw(m, 'POST', '/api/v1/namespaces/default/configmaps', '{"metadata": {');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    const yamlBad = await raw(m, 'POST', '/api/v1/namespaces/default/configmaps', 'metadata: [unclosed', { 'content-type': 'application/yaml' });
    expect(yamlBad.status).toBe(400);
    const huge = await raw(m, 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ metadata: { name: 'huge' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } }));
    expect(huge.status).toBe(413);
    const wrongVersion = await raw(m, 'POST', '/apis/apps/v1/namespaces/default/deployments', JSON.stringify({ apiVersion: 'apps/v1beta1', kind: 'Deployment', metadata: { name: 'x' } }));
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.body).toContain('apps/v1beta1');
    const wrongKind = await raw(m, 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }));
    expect(wrongKind.status).toBe(400);
    const unknown = await raw(m, 'GET', '/apis/example.com/v1/namespaces/default/widgets');
    expect(unknown.status).toBe(404);
    const noNamespace = await raw(m, 'POST', '/api/v1/namespaces/nope/configmaps', JSON.stringify({ metadata: { name: 'x' } }));
    expect(noNamespace.status).toBe(404);
    expect(noNamespace.body).toContain('namespaces \\"nope\\" not found');
    expect((await raw(m, 'GET', '/api/v1/namespaces/default/configmaps/huge')).status).toBe(404);
    expect((await raw(m, 'GET', '/healthz')).status).toBe(200);
  });

  test('optimistic concurrency: a stale resourceVersion is a 409 Conflict', async () => {
    const created = await m.client.create({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, { metadata: { name: 'occ' }, data: { v: '1' } } as never);
    const stale = { ...created, data: { v: '2' } };
    await m.client.update({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default', name: 'occ' }, stale as never);
    await expect(m.client.update({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default', name: 'occ' }, { ...created, data: { v: '3' } } as never)).rejects.toMatchObject({ code: 409, reason: 'Conflict' });
  });

  test('lists come in chunks with limit and continue', async () => {
    for (let i = 0; i < 12; i++) await m.client.create({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, { metadata: { name: `chunk-${String(i).padStart(2, '0')}`, labels: { chunk: 'yes' } } } as never);
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await m.client.list({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, { labelSelector: 'chunk=yes', limit: 5, continue: cont });
      names.push(...page.items.map((i) => String(i.metadata?.name)));
      cont = page.metadata.continue;
      pages++;
    } while (cont);
    expect(pages).toBe(3);
    expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `chunk-${String(i).padStart(2, '0')}`));
  });
});
