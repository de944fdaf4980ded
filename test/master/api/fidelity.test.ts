import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlAt, kubectlVersions, type Kubectl } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';
import { pythonClient, pythonClientStream } from '../../support/python-client';

jest.setTimeout(120_000);

/**
 * Issue 15: each defect found by a client lotse did not write, reproduced with that client
 * (kubectl 1.32 unless said, the Python client generated from Kubernetes' OpenAPI).
 */
describe('API fidelity against real clients', () => {
  let m: TestMaster;
  let kc: string;
  const k: Kubectl = kubectlAt(kubectlVersions().get('1.32') ?? 'kubectl');

  beforeAll(async () => {
    m = await startTestMaster();
    kc = m.kubeconfigPath;
  });
  afterAll(async () => {
    await m?.stop();
  });

  function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const url = new URL(m.url);
    return new Promise((resolve, reject) => {
      const req = https.request({ host: url.hostname, port: url.port, path, method, ca: m.caPem, headers: { authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  test('item 1: the system namespaces cannot be deleted, not even in a server-side dry run', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const dry = await k.run(kc, ['delete', 'ns', ns, '--dry-run=server']);
      expect(dry.code).not.toBe(0);
      expect(dry.stderr).toContain(`namespaces "${ns}" is forbidden: this namespace may not be deleted`);
    }
    const real = await k.run(kc, ['delete', 'ns', 'kube-system', '--wait=false']);
    expect(real.stderr).toMatch(/Forbidden|forbidden/);
    expect(await k.ok(kc, ['get', 'ns', 'kube-system', '-o', 'jsonpath={.status.phase}{.metadata.deletionTimestamp}'])).toBe('Active');
    // Other namespaces still go.
    await k.ok(kc, ['create', 'ns', 'fid-gone']);
    await k.ok(kc, ['delete', 'ns', 'fid-gone', '--dry-run=server']);
  });

  test.each(['1.27', '1.28'])('item 2: kubectl %s validates create -f and apply -f with /openapi/v2 (protobuf)', async (minor) => {
    const old = kubectlAt(kubectlVersions().get(minor) ?? 'kubectl');
    const name = `fid-v2-${minor.replace('.', '')}`;
    const cm = (extra = ''): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: "1"}\n${extra}`;
    await old.ok(kc, ['create', '-f', '-'], cm());
    await old.ok(kc, ['apply', '-f', '-'], cm());
    await old.ok(kc, ['apply', '-f', '-'], `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers: [{name: c, image: localhost/lotse-busybox:test, ports: [{containerPort: 80}]}]\n`);
    // Unknown fields are still refused, by the server or by the client's schema.
    const strict = await old.run(kc, ['apply', '--validate=strict', '-f', '-'], cm('bogusField: 1\n'));
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toMatch(/bogusField/);
  });

  test('item 2: /openapi/v2 is served as JSON and as gnostic protobuf, and kubectl edit validates with it', async () => {
    const json = await raw('GET', '/openapi/v2', undefined, { accept: 'application/json' });
    expect(json.status).toBe(200);
    const doc = JSON.parse(json.body) as { swagger: string; definitions: Record<string, { 'x-kubernetes-group-version-kind'?: unknown }>; paths: Record<string, unknown> };
    expect(doc.swagger).toBe('2.0');
    expect(Object.values(doc.definitions).some((d) => JSON.stringify(d['x-kubernetes-group-version-kind'] ?? '').includes('"Deployment"'))).toBe(true);
    expect(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']).toBeDefined();
    const pb = await raw('GET', '/openapi/v2', undefined, { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    expect(pb.status).toBe(200);
    expect(pb.body.startsWith('{')).toBe(false);
    const dir = await mkdtemp(join(tmpdir(), 'lotse-fid-edit-'));
    const editor = join(dir, 'editor.sh');
    await writeFile(editor, '#!/bin/sh\nsed -i \'s/^  a: "1"$/  a: "9"/\' "$1"\n', { mode: 0o755 });
    await k.ok(kc, ['create', 'configmap', 'fid-edit', '--from-literal=a=1']);
    for (const [minor, want] of [['1.27', '9'], ['1.32', '9']] as const) {
      await k.ok(kc, ['patch', 'configmap', 'fid-edit', '-p', '{"data":{"a":"1"}}']);
      await kubectlAt(kubectlVersions().get(minor) ?? 'kubectl', { KUBE_EDITOR: editor }).ok(kc, ['edit', 'configmap', 'fid-edit']);
      expect(await k.ok(kc, ['get', 'configmap', 'fid-edit', '-o', 'jsonpath={.data.a}'])).toBe(want);
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('item 3: the Python client watch (watch=True) streams events instead of ending after a list', async () => {
    await k.ok(kc, ['create', 'configmap', 'fid-watched', '--from-literal=a=1']);
    const w = pythonClientStream(kc, ['watch', 'default', 'fid-watched']);
    try {
      await waitUntil(() => /ADDED fid-watched/.test(w.output()), 20_000, () => `python watch printed: ${w.output()}`);
      await k.ok(kc, ['patch', 'configmap', 'fid-watched', '-p', '{"data":{"a":"2"}}']);
      expect(await w.exited).toBe(0);
      expect(w.output()).toMatch(/ADDED fid-watched\nMODIFIED fid-watched\nEND/);
    } finally {
      w.child.kill();
    }
  });

  test('item 4: Secret stringData is merged into data and never stored or echoed', async () => {
    const manifest = 'apiVersion: v1\nkind: Secret\nmetadata: {name: fid-secret}\ndata: {kept: a2VwdA==, over: b2xk}\nstringData: {plain: hello, over: new}\n';
    const created = JSON.parse(await k.ok(kc, ['create', '-f', '-', '-o', 'json'], manifest)) as { data: Record<string, string>; stringData?: unknown };
    expect(created.stringData).toBeUndefined();
    expect(created.data).toEqual({ kept: 'a2VwdA==', over: Buffer.from('new').toString('base64'), plain: Buffer.from('hello').toString('base64') });
    const read = JSON.parse(await k.ok(kc, ['get', 'secret', 'fid-secret', '-o', 'json'])) as { data: Record<string, string>; stringData?: unknown };
    expect(read.stringData).toBeUndefined();
    expect(Buffer.from(read.data.plain, 'base64').toString()).toBe('hello');
    // An apply that changes stringData lands in data too.
    await k.ok(kc, ['apply', '-f', '-'], manifest.replace('plain: hello', 'plain: again'));
    expect(await k.ok(kc, ['get', 'secret', 'fid-secret', '-o', 'jsonpath={.data.plain}'])).toBe(Buffer.from('again').toString('base64'));
  });

  test('item 7: a 404 for an unserved subresource carries details, so kubectl debug reports instead of panicking', async () => {
    const r = await raw('GET', '/api/v1/namespaces/default/pods/x/nosuch');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'NotFound', details: { name: '', group: '', kind: 'pods' } });
    const unknownResource = await raw('GET', '/api/v1/nosuchthings');
    expect(JSON.parse(unknownResource.body)).toMatchObject({ code: 404, details: {} });
  });

  test('item 9: volume without a source is an emptyDir, fieldRef gets apiVersion v1, status {} on objects created without it', async () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: fid-defaults}\nspec:\n  volumes: [{name: scratch}]\n  containers:\n  - name: c\n    image: localhost/lotse-busybox:test\n    env: [{name: ME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]\n';
    const created = JSON.parse(await k.ok(kc, ['create', '-f', '-', '-o', 'json'], pod)) as { spec: { volumes: unknown[]; containers: { env: unknown[] }[] } };
    expect(created.spec.volumes).toEqual([{ name: 'scratch', emptyDir: {} }]);
    expect(created.spec.containers[0].env[0]).toEqual({ name: 'ME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } });
    expect(await k.ok(kc, ['describe', 'pod', 'fid-defaults'])).toMatch(/ME:\s+fid-defaults \(v1:metadata\.name\)/);
    const deploy = JSON.parse(await k.ok(kc, ['create', 'deployment', 'fid-status', '--image=localhost/lotse-busybox:test', '-o', 'json'])) as { status?: unknown };
    expect(deploy.status).toEqual({});
    const svc = JSON.parse(await k.ok(kc, ['create', 'service', 'clusterip', 'fid-svc', '--tcp=80:80', '-o', 'json'])) as { status?: unknown };
    expect(svc.status).toEqual({ loadBalancer: {} });
    // A ConfigMap has no status in Kubernetes either.
    const cm = JSON.parse(await k.ok(kc, ['create', 'configmap', 'fid-nostatus', '-o', 'json'])) as { status?: unknown };
    expect(cm.status).toBeUndefined();
  });

  test('item 10: /version/ with a trailing slash answers as /version does (the Python VersionApi)', async () => {
    const v = JSON.parse(await pythonClient(kc, ['version'])) as { gitVersion: string; minor: string };
    expect(v).toMatchObject({ minor: '32' });
    expect(v.gitVersion).toMatch(/^v1\.32\./);
    expect((await raw('GET', '/version/')).status).toBe(200);
  });

  test('item 11: resourceVersion "0" replaces unconditionally', async () => {
    await k.ok(kc, ['create', 'configmap', 'fid-rv0', '--from-literal=a=1']);
    await k.ok(kc, ['patch', 'configmap', 'fid-rv0', '-p', '{"data":{"a":"2"}}']);
    await k.ok(kc, ['replace', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fid-rv0, resourceVersion: "0"}\ndata: {a: "3"}\n');
    expect(await k.ok(kc, ['get', 'configmap', 'fid-rv0', '-o', 'jsonpath={.data.a}'])).toBe('3');
    const stale = await k.run(kc, ['replace', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fid-rv0, resourceVersion: "1"}\ndata: {a: "4"}\n');
    expect(stale.stderr).toMatch(/the object has been modified/);
  });

  test('item 11: discovery carries storageVersionHash as the apiserver computes it', async () => {
    const apps = JSON.parse(await k.ok(kc, ['get', '--raw', '/apis/apps/v1'])) as { resources: { name: string; storageVersionHash?: string }[] };
    expect(apps.resources.find((r) => r.name === 'deployments')?.storageVersionHash).toBe('8aSe+NMegvE=');
    expect(apps.resources.find((r) => r.name === 'deployments/status')?.storageVersionHash).toBeUndefined();
    const core = JSON.parse(await k.ok(kc, ['get', '--raw', '/api/v1'])) as { resources: { name: string; storageVersionHash?: string }[] };
    expect(core.resources.find((r) => r.name === 'pods')?.storageVersionHash).toBe('xPOwRZ+Yhw8=');
  });

  test('item 11: a YAML body sent as application/json is created (kubectl create --raw)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lotse-fid-'));
    const file = join(dir, 'cm.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fid-yaml\ndata:\n  k: v\n');
    try {
      await k.ok(kc, ['create', '--raw', '/api/v1/namespaces/default/configmaps', '-f', file]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await k.ok(kc, ['get', 'configmap', 'fid-yaml', '-o', 'jsonpath={.data.k}'])).toBe('v');
    const bad = await raw('POST', '/api/v1/namespaces/default/configmaps', '{not json: [');
    expect(bad.status).toBe(400);
  });

  test('item 11: an unchanged PUT of a Deployment keeps its generation and resourceVersion', async () => {
    await k.ok(kc, ['create', 'deployment', 'fid-gen', '--image=localhost/lotse-busybox:test']);
    const before = JSON.parse(await k.ok(kc, ['get', 'deployment', 'fid-gen', '-o', 'json'])) as { metadata: { generation: number; resourceVersion: string } };
    await k.ok(kc, ['replace', '-f', '-'], JSON.stringify(before));
    const after = JSON.parse(await k.ok(kc, ['get', 'deployment', 'fid-gen', '-o', 'json'])) as { metadata: { generation: number; resourceVersion: string } };
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    await k.ok(kc, ['set', 'image', 'deployment/fid-gen', '*=localhost/lotse-busybox:other']);
    expect(await k.ok(kc, ['get', 'deployment', 'fid-gen', '-o', 'jsonpath={.metadata.generation}'])).toBe(String(before.metadata.generation + 1));
  });
});

async function waitUntil(ok: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
