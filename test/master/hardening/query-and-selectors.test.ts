import { rawRequest, type RawResponse } from '../../support/https-raw';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

describe.each(storeKinds)('bad selectors and query parameters are refused, on %s', (store) => {
  let m: TestMaster;
  const call = (method: string, path: string, body?: unknown): Promise<RawResponse> =>
    rawRequest(m.url, m.caPem, method, path, { token: m.adminToken, body: body === undefined ? undefined : JSON.stringify(body) });
  const message = (r: RawResponse): string => (JSON.parse(r.body) as { message: string }).message;

  beforeAll(async () => {
    m = await startTestMaster({ store });
  });
  afterAll(async () => {
    await m?.stop();
  });

  const deployment = (selector: unknown, extra: Record<string, unknown> = {}): unknown => ({
    metadata: { name: 'like' },
    spec: { replicas: 1, selector, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra } } },
  });

  test('a Deployment whose selector uses the operator Like is 422, naming the field and the supported operators', async () => {
    const r = await call('POST', '/apis/apps/v1/namespaces/default/deployments', deployment({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'app', operator: 'Like', values: ['a'] }] }));
    expect(r.status).toBe(422);
    const status = JSON.parse(r.body) as { details: { causes: { field: string; message: string }[] } };
    expect(status.details.causes).toContainEqual(expect.objectContaining({ field: 'spec.selector.matchExpressions[0].operator' }));
    expect(message(r)).toContain('"In", "NotIn", "Exists", "DoesNotExist"');
    const list = JSON.parse((await call('GET', '/apis/apps/v1/namespaces/default/deployments')).body) as { items: unknown[] };
    expect(list.items).toHaveLength(0);
  });

  test('any label selector is checked: pod affinity, In without values, Exists with values; node affinity allows Gt', async () => {
    const affinity = (labelSelector: unknown): unknown => deployment({ matchLabels: { app: 'a' } }, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector }] } } });
    const like = await call('POST', '/apis/apps/v1/namespaces/default/deployments', affinity({ matchExpressions: [{ key: 'app', operator: 'Like', values: ['a'] }] }));
    expect(like.status).toBe(422);
    expect(message(like)).toContain('labelSelector.matchExpressions[0].operator');
    expect((await call('POST', '/apis/apps/v1/namespaces/default/deployments', affinity({ matchExpressions: [{ key: 'app', operator: 'In', values: [] }] }))).status).toBe(422);
    expect((await call('POST', '/apis/apps/v1/namespaces/default/deployments', affinity({ matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }))).status).toBe(422);
    const nodeAffinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['2'] }] }] } } };
    const ok = await call('POST', '/apis/apps/v1/namespaces/default/deployments', deployment({ matchExpressions: [{ key: 'app', operator: 'In', values: ['a'] }] }, { affinity: nodeAffinity }));
    expect(ok.status).toBe(201);
  });

  test('field selectors Kubernetes does not support for the kind are 400; supported ones work', async () => {
    const bad = await call('GET', '/api/v1/namespaces/default/pods?fieldSelector=spec.containers=x');
    expect(bad.status).toBe(400);
    expect(message(bad)).toContain('field label not supported: spec.containers');
    expect((await call('GET', '/api/v1/namespaces/default/configmaps?fieldSelector=data.a=b')).status).toBe(400);
    expect((await call('GET', '/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.labels=x')).status).toBe(400);
    expect((await call('DELETE', '/api/v1/namespaces/default/configmaps?fieldSelector=data.a=b')).status).toBe(400);
    for (const good of ['/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName=n1,status.phase!=Failed', '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name=x', '/api/v1/events?fieldSelector=involvedObject.name=x', '/api/v1/nodes?fieldSelector=spec.unschedulable=false']) {
      expect([good, (await call('GET', good)).status]).toEqual([good, 200]);
    }
  });

  test('a bogus resourceVersion is 400 on get, list and watch', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'rv' } });
    for (const path of ['/api/v1/namespaces/default/configmaps?resourceVersion=abc', '/api/v1/namespaces/default/configmaps/rv?resourceVersion=abc', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=12abc', '/api/v1/namespaces/default/configmaps?resourceVersion=-1']) {
      const r = await call('GET', path);
      expect([path, r.status]).toEqual([path, 400]);
      expect(message(r)).toContain('invalid resourceVersion');
    }
    expect((await call('GET', '/api/v1/namespaces/default/configmaps?resourceVersion=0')).status).toBe(200);
  });

  test('limit=abc and timeoutSeconds=abc are 400; limit=1 pages', async () => {
    const r = await call('GET', '/api/v1/namespaces/default/configmaps?limit=abc');
    expect(r.status).toBe(400);
    expect(message(r)).toContain('invalid limit "abc"');
    expect((await call('GET', '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=abc')).status).toBe(400);
    await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'rv2' } });
    const page = JSON.parse((await call('GET', '/api/v1/namespaces/default/configmaps?limit=1')).body) as { items: unknown[]; metadata: { continue?: string } };
    expect(page.items).toHaveLength(1);
    expect(page.metadata.continue).toBeTruthy();
  });
});
