import { KubeClient } from '../../../kube/client';
import { HEARTBEATS_PER_NODE, MaxInFlight } from '../../../master/api/max-in-flight';
import { NodeReferences } from '../../../master/auth/node-references';
import { rawRequest } from '../../support/https-raw';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

const node = { user: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'], role: 'node' as const, nodeName: 'n1' };
const admin = { user: 'admin', groups: ['system:masters', 'system:authenticated'], role: 'admin' as const };

describe('MaxInFlight', () => {
  const pods = (verb: string, subresource?: string) => ({ verb, plural: 'pods', namespace: 'default', subresource });

  test('counts reads and writes apart, refuses past each bound with 429, and frees a slot once per release', () => {
    const limit = new MaxInFlight({ maxReads: 2, maxMutations: 1 });
    const r1 = limit.admit(node, pods('get'));
    limit.admit(node, pods('list'));
    expect(() => limit.admit(node, pods('get'))).toThrow(expect.objectContaining({ code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } }));
    const w = limit.admit(node, pods('patch', 'status'));
    expect(() => limit.admit(node, pods('create'))).toThrow(expect.objectContaining({ code: 429 }));
    // Not counted: system:masters, watches, streams.
    limit.admit(admin, pods('get'));
    limit.admit(node, pods('watch'));
    limit.admit(node, pods('get', 'log'));
    r1();
    r1(); // a second release frees nothing more
    limit.admit(node, pods('get'));
    expect(() => limit.admit(node, pods('get'))).toThrow(expect.objectContaining({ code: 429 }));
    w();
    limit.admit(node, pods('delete'));
  });

  test("a node's heartbeats are bounded per node, not taken by pod writes nor by other nodes' heartbeats", () => {
    const limit = new MaxInFlight({ maxReads: 1, maxMutations: 1 });
    limit.admit(node, pods('patch', 'status'));
    expect(() => limit.admit(node, pods('patch', 'status'))).toThrow(expect.objectContaining({ code: 429 }));
    const lease = { verb: 'update', plural: 'leases', namespace: 'kube-node-lease' };
    const status = { verb: 'patch', plural: 'nodes', subresource: 'status' };
    // Past the shared bound of 1, 5,000 nodes' heartbeats are all admitted.
    const nodeN = (i: number) => ({ ...node, user: `system:node:n${i}`, nodeName: `n${i}` });
    const releases = Array.from({ length: 5000 }, (_, i) => [limit.admit(nodeN(i), lease), limit.admit(nodeN(i), status)]);
    // One node with HEARTBEATS_PER_NODE in flight is refused the next, and only that node.
    const held = Array.from({ length: HEARTBEATS_PER_NODE - 2 }, () => limit.admit(nodeN(7), lease));
    expect(() => limit.admit(nodeN(7), status)).toThrow(expect.objectContaining({ code: 429, details: { retryAfterSeconds: 1 } }));
    limit.admit(nodeN(8), lease);
    held[0]();
    held[0](); // a second release frees nothing more
    limit.admit(nodeN(7), status);
    expect(() => limit.admit(nodeN(7), lease)).toThrow(expect.objectContaining({ code: 429 }));
    for (const [a, b] of releases) a(), b();
    // A Lease elsewhere, or one written by someone not a node, is an ordinary write.
    const user = { user: 'u', groups: ['system:authenticated'], role: 'user' as const };
    expect(() => limit.admit(user, lease)).toThrow(expect.objectContaining({ code: 429 }));
    expect(() => limit.admit(node, { ...lease, namespace: 'default' })).toThrow(expect.objectContaining({ code: 429 }));
  });

  test('0 turns a bound off', () => {
    const limit = new MaxInFlight({ maxReads: 0, maxMutations: 0 });
    for (let i = 0; i < 1000; i++) limit.admit(node, pods(i % 2 ? 'get' : 'update'));
  });
});

describe('the master past its max-in-flight bound', () => {
  let m: TestMaster;
  let token: string;

  beforeAll(async () => {
    m = await startTestMaster({ master: { maxInFlight: { maxReads: 2, maxMutations: 1 } } });
    const r = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'n1', addresses: ['127.0.0.1'] }) });
    token = (JSON.parse(r.body) as { token: string }).token;
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('refuses a node the next read with 429 and Retry-After while two are answered; admin, writes and watches pass; all serve again after', async () => {
    await m.client.create({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, { metadata: { name: 'held' }, data: { k: 'v' } } as never);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // Two node reads held in the authorizer's index lookup, i.e. admitted and in flight.
    const held = jest.spyOn(NodeReferences.prototype, 'has').mockImplementation(async () => {
      await gate;
      return false;
    });
    const path = '/api/v1/namespaces/default/configmaps/held';
    try {
      const inFlight = [rawRequest(m.url, m.caPem, 'GET', path, { token }), rawRequest(m.url, m.caPem, 'GET', path, { token })];
      for (let i = 0; i < 50 && held.mock.calls.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(held.mock.calls.length).toBe(2);
      const refused = await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/pods', { token });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(JSON.parse(refused.body)).toMatchObject({ kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.' });
      // The admin (system:masters) is never refused; a node's write has its own bound; a watch is not counted.
      expect((await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/pods', { token: m.adminToken })).status).toBe(200);
      const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40 } };
      expect((await rawRequest(m.url, m.caPem, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { token, body: JSON.stringify(lease) })).status).toBe(201);
      const nodeClient = new KubeClient({ server: m.url, ca: m.caPem, token });
      let watchError: unknown;
      const watch = nodeClient.watch({ group: '', version: 'v1', resource: 'pods' }, { fieldSelector: 'spec.nodeName=n1' }, () => undefined, (err) => (watchError = err));
      await new Promise((r) => setTimeout(r, 300));
      watch.stop();
      nodeClient.close();
      expect(watchError).toBeUndefined();
      open();
      expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([403, 403]);
    } finally {
      held.mockRestore();
      open();
    }
    expect((await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/pods', { token })).status).toBe(200);
  });
});
