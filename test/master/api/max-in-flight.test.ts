import http2 from 'node:http2';
import { KubeClient } from '../../../kube/client';
import { ApiServer } from '../../../master/api/api-server';
import { HEARTBEATS_PER_NODE, MaxInFlight } from '../../../master/api/max-in-flight';
import { NodeReferences } from '../../../master/auth/node-references';
import { rawRequest } from '../../support/https-raw';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

const node = { user: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'], role: 'node' as const, nodeName: 'n1' };
const admin = { user: 'admin', groups: ['system:masters', 'system:authenticated'], role: 'admin' as const };

describe('MaxInFlight', () => {
  const pods = (verb: string, subresource?: string) => ({ verb, plural: 'pods', namespace: 'default', subresource });
  const refused = expect.objectContaining({ code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
  /** Whether a promise settled within the current turn of microtasks. */
  const settled = async (p: Promise<unknown>): Promise<boolean> => {
    let done = false;
    void p.then(() => (done = true), () => (done = true));
    await new Promise((r) => setImmediate(r));
    return done;
  };

  test('without a queue, counts reads and writes apart, refuses past each bound with 429, and frees a slot once per release', async () => {
    const limit = new MaxInFlight({ maxReads: 2, maxMutations: 1, maxQueued: 0 });
    const r1 = await limit.admit(node, pods('get'));
    await limit.admit(node, pods('list'));
    await expect(limit.admit(node, pods('get'))).rejects.toEqual(refused);
    const w = await limit.admit(node, pods('patch', 'status'));
    await expect(limit.admit(node, pods('create'))).rejects.toEqual(refused);
    // Not counted: system:masters, watches, streams.
    await limit.admit(admin, pods('get'));
    await limit.admit(node, pods('watch'));
    await limit.admit(node, pods('get', 'log'));
    r1();
    r1(); // a second release frees nothing more
    await limit.admit(node, pods('get'));
    await expect(limit.admit(node, pods('get'))).rejects.toEqual(refused);
    w();
    await limit.admit(node, pods('delete'));
  });

  test('past the bound a request waits its turn, first come first served; past maxQueued or after queueWaitMs it is refused', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const limit = new MaxInFlight({ maxReads: 1, maxMutations: 1, maxQueued: 2, queueWaitMs: 5_000 });
      const first = await limit.admit(node, pods('get'));
      const second = limit.admit(node, pods('get'));
      const third = limit.admit(node, pods('list'));
      expect(limit.queued()).toBe(2);
      await expect(limit.admit(node, pods('get'))).rejects.toEqual(refused); // the queue is full
      expect(await settled(second)).toBe(false);
      first();
      const secondRelease = await second; // the first in line gets the slot
      expect(await settled(third)).toBe(false);
      secondRelease();
      (await third)();
      expect(limit.queued()).toBe(0);
      // Writes wait in their own queue; one that waits too long is refused and leaves it.
      const write = await limit.admit(node, pods('update'));
      const late = limit.admit(node, pods('patch', 'status'));
      jest.advanceTimersByTime(5_000);
      await expect(late).rejects.toEqual(refused);
      expect(limit.queued()).toBe(0);
      write();
      (await limit.admit(node, pods('create')))();
    } finally {
      jest.useRealTimers();
    }
  });

  test("a node's heartbeats are bounded per node, not taken by pod writes nor by other nodes' heartbeats", async () => {
    const limit = new MaxInFlight({ maxReads: 1, maxMutations: 1, maxQueued: 0 });
    await limit.admit(node, pods('patch', 'status'));
    await expect(limit.admit(node, pods('patch', 'status'))).rejects.toEqual(refused);
    const lease = { verb: 'update', plural: 'leases', namespace: 'kube-node-lease' };
    const status = { verb: 'patch', plural: 'nodes', subresource: 'status' };
    // Past the shared bound of 1, 5,000 nodes' heartbeats are all admitted.
    const nodeN = (i: number) => ({ ...node, user: `system:node:n${i}`, nodeName: `n${i}` });
    const releases = await Promise.all(Array.from({ length: 5000 }, async (_, i) => [await limit.admit(nodeN(i), lease), await limit.admit(nodeN(i), status)]));
    // One node with HEARTBEATS_PER_NODE in flight is refused the next, and only that node.
    const held = await Promise.all(Array.from({ length: HEARTBEATS_PER_NODE - 2 }, () => limit.admit(nodeN(7), lease)));
    await expect(limit.admit(nodeN(7), status)).rejects.toEqual(refused);
    await limit.admit(nodeN(8), lease);
    held[0]();
    held[0](); // a second release frees nothing more
    await limit.admit(nodeN(7), status);
    await expect(limit.admit(nodeN(7), lease)).rejects.toEqual(refused);
    for (const [a, b] of releases) a(), b();
    // A Lease elsewhere, or one written by someone not a node, is an ordinary write.
    const user = { user: 'u', groups: ['system:authenticated'], role: 'user' as const };
    await expect(limit.admit(user, lease)).rejects.toEqual(refused);
    await expect(limit.admit(node, { ...lease, namespace: 'default' })).rejects.toEqual(refused);
  });

  test('0 turns a bound off', async () => {
    const limit = new MaxInFlight({ maxReads: 0, maxMutations: 0, maxQueued: 0 });
    for (let i = 0; i < 1000; i++) await limit.admit(node, pods(i % 2 ? 'get' : 'update'));
  });
});

describe('the master past its max-in-flight bound', () => {
  let m: TestMaster;
  let token: string;

  beforeAll(async () => {
    m = await startTestMaster({ master: { maxInFlight: { maxReads: 2, maxMutations: 1, maxQueued: 1, queueWaitMs: 60_000 } } });
    const r = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'n1', addresses: ['127.0.0.1'] }) });
    token = (JSON.parse(r.body) as { token: string }).token;
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('holds a node the next read while two are answered and refuses the one after with 429 and Retry-After; admin, writes and watches pass; the held read is answered once a slot frees', async () => {
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
      // The next read waits for a slot; the one after finds the queue full and is refused at once.
      const queued = rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/pods', { token });
      await new Promise((r) => setTimeout(r, 300));
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
      expect((await queued).status).toBe(200);
    } finally {
      held.mockRestore();
      open();
    }
    expect((await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/pods', { token })).status).toBe(200);
    // The held read waited 300 ms and more for its slot: the SLI latency (kube-apiserver's
    // apiserver_request_sli_duration_seconds) leaves that wait out, the request latency keeps it.
    const metrics = (await rawRequest(m.url, m.caPem, 'GET', '/metrics', { token: m.adminToken })).body;
    const sum = (name: string): number => Number(new RegExp(`^${name}_sum\\{verb="LIST",resource="pods"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(sum('apiserver_request_duration_seconds') - sum('apiserver_request_sli_duration_seconds')).toBeGreaterThanOrEqual(0.3);
    expect(sum('lotse_request_queue_wait_seconds')).toBeGreaterThanOrEqual(0.3);
    expect(metrics).toMatch(/^lotse_request_queue_wait_seconds_bucket\{verb="LIST",resource="pods",le="0.25"\} [1-9]\d*$/m);
  });

  test('a client that gives up while its write waits for a slot is counted as gone (499), not as a server error', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const proto = ApiServer.prototype as unknown as { authorize: (...args: unknown[]) => Promise<void> };
    const authorize = proto.authorize;
    // The first write is held once admitted: it takes the one mutation slot.
    const held = jest.spyOn(proto, 'authorize').mockImplementationOnce(async function (this: unknown, ...args: unknown[]) {
      await gate;
      return authorize.apply(this, args);
    });
    const body = JSON.stringify({ data: { k: 'gone' } });
    const session = http2.connect(m.url, { ca: m.caPem });
    try {
      const first = rawRequest(m.url, m.caPem, 'POST', '/api/v1/namespaces/default/configmaps', { token, body: JSON.stringify({ metadata: { name: 'first' } }) });
      for (let i = 0; i < 50 && held.mock.calls.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(held.mock.calls.length).toBe(1);
      const queued = session.request({ ':method': 'PATCH', ':path': '/api/v1/namespaces/default/configmaps/held', authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json' });
      queued.on('error', () => undefined);
      queued.end(body);
      await new Promise((r) => setTimeout(r, 300));
      queued.close(http2.constants.NGHTTP2_CANCEL);
      await new Promise((r) => setTimeout(r, 100));
      open();
      expect((await first).status).toBe(403); // a node may not create ConfigMaps
      await new Promise((r) => setTimeout(r, 200));
      const metrics = await rawRequest(m.url, m.caPem, 'GET', '/metrics', { token: m.adminToken });
      expect(metrics.body).toContain('apiserver_request_total{verb="PATCH",resource="configmaps",code="499"} 1');
      expect(metrics.body).not.toMatch(/resource="configmaps",code="5\d\d"/);
    } finally {
      held.mockRestore();
      open();
      session.close();
    }
  });
});
