import { rawRequest, type RawResponse } from '../../support/https-raw';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

describe.each(storeKinds)('NodeRestriction as Kubernetes has it, on %s', (store) => {
  let m: TestMaster;
  let nodeToken: string;

  const as = (token: string) => (method: string, path: string, body?: unknown, type = 'application/merge-patch+json'): Promise<RawResponse> =>
    rawRequest(m.url, m.caPem, method, path, { token, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': method === 'POST' || method === 'PUT' ? 'application/json' : type } });
  const admin = (...args: Parameters<ReturnType<typeof as>>): Promise<RawResponse> => as(m.adminToken)(...args);
  const node = (...args: Parameters<ReturnType<typeof as>>): Promise<RawResponse> => as(nodeToken)(...args);

  beforeAll(async () => {
    m = await startTestMaster({ store });
    const joined = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'nr-1', addresses: ['127.0.0.1'] }) });
    expect(joined.status).toBe(201);
    nodeToken = (JSON.parse(joined.body) as { token: string }).token;
    const pod = { metadata: { name: 'web', labels: { app: 'web' } }, spec: { nodeName: 'nr-1', containers: [{ name: 'c', image: 'busybox' }] } };
    expect((await admin('POST', '/api/v1/namespaces/default/pods', pod)).status).toBe(201);
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('through pods/status a node changes status only: not labels, annotations, finalizers or ownerReferences', async () => {
    const path = '/api/v1/namespaces/default/pods/web/status';
    for (const metadata of [
      { labels: { app: 'payments' } },
      { annotations: { a: 'b' } },
      { finalizers: ['example.com/keep'] },
      { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'nr-1', uid: '0c6e1c52-0000-4000-8000-000000000000' }] },
    ]) {
      const r = await node('PATCH', path, { metadata });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body).message).toContain(`cannot update ${Object.keys(metadata)[0]} through pod status`);
    }
    const ok = await node('PATCH', path, { status: { phase: 'Running' } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).metadata.labels).toEqual({ app: 'web' });
    // The admin still may.
    expect((await admin('PATCH', path, { metadata: { labels: { app: 'web', tier: 'front' } } })).status).toBe(200);
  });

  test('a node registers with kubelet labels only', async () => {
    const forbidden = await node('POST', '/api/v1/nodes', { metadata: { name: 'nr-1', labels: { 'node-role.kubernetes.io/control-plane': '' } } });
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.body).message).toContain('node-role.kubernetes.io/control-plane');
    const created = await node('POST', '/api/v1/nodes', { metadata: { name: 'nr-1', labels: { 'kubernetes.io/hostname': 'nr-1', 'kubernetes.io/os': 'linux' } } });
    expect(created.status).toBe(201);
  });

  test('on its own Node, a node sets only the labels a kubelet may', async () => {
    const path = '/api/v1/nodes/nr-1';
    for (const label of ['node-role.kubernetes.io/control-plane', 'node-restriction.kubernetes.io/tier', 'kubernetes.io/made-up', 'example.k8s.io/x']) {
      const r = await node('PATCH', path, { metadata: { labels: { [label]: 'yes' } } });
      expect([label, r.status]).toEqual([label, 403]);
    }
    for (const label of ['topology.kubernetes.io/zone', 'node.kubernetes.io/instance-type', 'beta.kubernetes.io/instance-type', 'failure-domain.beta.kubernetes.io/region', 'kubelet.kubernetes.io/x', 'node.kubernetes.io/exclude', 'example.com/rack']) {
      const r = await node('PATCH', path, { metadata: { labels: { [label]: 'yes' } } });
      expect([label, r.status]).toEqual([label, 200]);
    }
    // Removing a forbidden label the admin set is a change too.
    expect((await admin('PATCH', path, { metadata: { labels: { 'node-role.kubernetes.io/worker': '' } } })).status).toBe(200);
    expect((await node('PATCH', path, { metadata: { labels: { 'node-role.kubernetes.io/worker': null } } })).status).toBe(403);
  });

  test('a node can neither remove nor change its taints', async () => {
    const path = '/api/v1/nodes/nr-1';
    expect((await admin('PATCH', path, { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } })).status).toBe(200);
    const cleared = await node('PATCH', path, { spec: { taints: [] } });
    expect(cleared.status).toBe(403);
    expect(JSON.parse(cleared.body).message).toContain('not allowed to modify taints');
    expect((await node('PATCH', path, { spec: { taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }] } })).status).toBe(403);
    const json = await node('PATCH', path, [{ op: 'remove', path: '/spec/taints' }], 'application/json-patch+json');
    expect(json.status).toBe(403);
    const still = JSON.parse((await admin('GET', path)).body) as { spec: { taints: unknown[] } };
    expect(still.spec.taints).toHaveLength(1);
  });

  test('a node creates its Lease by name only, not with generateName', async () => {
    const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    const generated = await node('POST', leases, { metadata: { generateName: 'nr-' }, spec: { holderIdentity: 'nr-1' } });
    expect(generated.status).toBe(403);
    expect((await node('POST', leases, { metadata: { name: 'nr-2' }, spec: { holderIdentity: 'nr-1' } })).status).toBe(403);
    expect((await node('POST', leases, { metadata: { name: 'nr-1' }, spec: { holderIdentity: 'nr-1' } })).status).toBe(201);
    const list = JSON.parse((await admin('GET', leases)).body) as { items: { metadata: { name: string } }[] };
    expect(list.items.map((l) => l.metadata.name)).toEqual(['nr-1']);
  });
});
