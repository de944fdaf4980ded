import { X509Certificate } from 'node:crypto';
import { rawRequest, type RawResponse } from '../../support/https-raw';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';
import { ReadyzProber } from '../../support/readyz-prober';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;

/** The copy-doubling JSON patch of issue 19: each copy doubles the array, 22 of them reach 4M items. */
function doublingPatch(base: string, copies: number): unknown[] {
  const ops: unknown[] = [
    { op: 'add', path: `${base}/annotations`, value: {} },
    { op: 'add', path: `${base}/annotations/x`, value: ['a'.repeat(64)] },
  ];
  // Paths into annotations would fail validation only after the copies ran; that is the point.
  for (let i = 0; i < copies; i++) ops.push({ op: 'copy', from: `${base}/annotations/x`, path: `${base}/annotations/x/-` });
  return ops;
}

describe.each(storeKinds)('abuse gets a clean 4xx and leaves the API up, on %s', (store) => {
  let m: TestMaster;
  let prober: ReadyzProber;
  let nodeToken: string;

  const call = (method: string, path: string, body?: unknown, contentType = 'application/json', token = m.adminToken): Promise<RawResponse> =>
    rawRequest(m.url, m.caPem, method, path, { token, body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': contentType }, timeoutMs: 30_000 });

  beforeAll(async () => {
    m = await startTestMaster({ store });
    const joined = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'abuse-node', addresses: ['127.0.0.1'] }) });
    expect(joined.status).toBe(201);
    const creds = JSON.parse(joined.body) as { token: string; servingCert: string };
    expect(new X509Certificate(creds.servingCert).subject).toContain('abuse-node');
    nodeToken = creds.token;
    expect((await call('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'victim' }, spec: { nodeName: 'abuse-node', containers: [{ name: 'c', image: 'busybox' }] } })).status).toBe(201);
    prober = new ReadyzProber(m.url, m.caPem);
  });

  afterAll(async () => {
    await prober?.stop();
    await m?.stop();
  });

  test('a 2 KB copy-doubling JSON patch is refused while it runs (413), also through pods/status with a node token', async () => {
    for (const [path, token] of [
      ['/api/v1/namespaces/default/pods/victim/status', nodeToken],
      ['/api/v1/namespaces/default/pods/victim', m.adminToken],
    ] as const) {
      const patch = JSON.stringify(doublingPatch('/metadata', 22));
      expect(patch.length).toBeLessThan(3000);
      const started = Date.now();
      const r = await call('PATCH', path, patch, 'application/json-patch+json', token);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', code: 413, reason: 'RequestEntityTooLarge' });
      expect(JSON.parse(r.body).message).toMatch(/limit of \d+/);
    }
    // More operations than Kubernetes allows in one JSON patch.
    const many = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/kind', value: 'Pod' }));
    expect((await call('PATCH', '/api/v1/namespaces/default/pods/victim', many, 'application/json-patch+json')).status).toBe(413);
    // An ordinary JSON patch still works.
    const ok = await call('PATCH', '/api/v1/namespaces/default/pods/victim', [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }], 'application/json-patch+json');
    expect(ok.status).toBe(200);
  });

  test('a ConfigMap with more than 1 MiB of data is 422 saying the limit and the excess', async () => {
    const r = await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'big' }, data: { a: 'x'.repeat(MiB + 10) } });
    expect(r.status).toBe(422);
    const status = JSON.parse(r.body) as { message: string; details: { causes: { field: string }[] } };
    expect(status.message).toContain('1048576 bytes');
    expect(status.message).toContain('10 over');
    expect(status.details.causes[0].field).toBe('data');
    const secret = await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 'big' }, data: { a: Buffer.alloc(MiB + 3).toString('base64') } });
    expect(secret.status).toBe(422);
  });

  test('an object over 1.5 MiB is 413 saying by how much, also when a merge patch makes it so', async () => {
    const pod = (value: string): unknown => ({ metadata: { name: 'huge' }, spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'A', value }] }] } });
    const r = await call('POST', '/api/v1/namespaces/default/pods', pod('x'.repeat(1.6 * MiB)));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).message).toMatch(/over the limit of 1572864 bytes per object/);
    expect((await call('POST', '/api/v1/namespaces/default/pods', pod('small'))).status).toBe(201);
    const patched = await call('PATCH', '/api/v1/namespaces/default/pods/huge', { metadata: { annotations: { a: 'y'.repeat(1.6 * MiB) } } }, 'application/merge-patch+json');
    expect(patched.status).toBe(413);
  });

  test('writes over 2 MiB in a loop answer 413 and never take the API down', async () => {
    const body = { metadata: { name: 'loop' }, spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'A', value: 'z'.repeat(2.5 * MiB) }] }] } };
    for (let i = 0; i < 8; i++) {
      expect((await call('POST', '/api/v1/namespaces/default/pods', body)).status).toBe(413);
      const after = await call('GET', '/api/v1/namespaces/default/pods/victim');
      expect(after.status).toBe(200);
    }
    expect((await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'after-loop' }, data: { a: 'b' } })).status).toBe(201);
  });

  test('a 100k-deep JSON or YAML body is 400, not 500 or a dead master', async () => {
    const n = 100_000;
    const deepJson = `{"metadata":{"name":"deep"},"data":${'['.repeat(n)}${']'.repeat(n)}}`;
    const json = await call('POST', '/api/v1/namespaces/default/configmaps', deepJson);
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body).message).toMatch(/nests deeper than 200 levels/);
    const deepYaml = `metadata:\n  name: deep\ndata: ${'['.repeat(n)}${']'.repeat(n)}\n`;
    for (const type of ['application/yaml']) {
      const r = await call('POST', '/api/v1/namespaces/default/configmaps', deepYaml, type);
      expect(r.status).toBe(400);
    }
    const apply = await call('PATCH', '/api/v1/namespaces/default/configmaps/deep?fieldManager=t', `data: ${'- '.repeat(n)}x\n`, 'application/apply-patch+yaml');
    expect(apply.status).toBe(400);
    const mergeDeep = await call('PATCH', '/api/v1/namespaces/default/pods/victim', `{"metadata":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`, 'application/merge-patch+json');
    expect(mergeDeep.status).toBe(400);
    expect((await call('GET', '/api/v1/namespaces/default/pods/victim')).status).toBe(200);
  });

  test('/readyz stayed 200 and answered within 1 s throughout', async () => {
    // Probe on after the abuse too (a quiet machine runs the abuse above in about a second), so the
    // answers cover the time after it as well as during it.
    const until = Date.now() + 10_000;
    while (prober.records.length <= 10 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    const records = await prober.stop();
    expect(records.length).toBeGreaterThan(10);
    expect(prober.statuses()).toEqual([200]);
    expect(prober.slowest()).toBeLessThan(1000);
  });
});
