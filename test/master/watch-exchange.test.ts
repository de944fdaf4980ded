import { writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import YAML from 'yaml';
import { KubeClient } from '../../kube/client';
import type { WatchEvent } from '../../kube/object';
import { createApiHttpServer, type ApiHttpServer } from '../../master/api-http-server';
import { userKubeconfig } from '../../master/user-kubeconfig';
import { isWatchRequest } from '../../master/watch-exchange';
import { kubectl } from '../support/kubectl';
import { waitFor } from './controllers/cluster';
import { startTestMaster, type TestMaster } from '../support/master';
import { makeTestPki, type TestPki } from '../support/test-certs';

jest.setTimeout(60_000);

interface H2Answer {
  status: number;
  contentType: string;
  body: string;
}

/** One request on an HTTP/2 session, read to its end. */
function h2Get(session: http2.ClientHttp2Session, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': method, ':path': path, ...headers });
    let status = 0;
    let contentType = '';
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      contentType = String(h['content-type'] ?? '');
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, contentType, body: Buffer.concat(chunks).toString() }));
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP/2 watches are served on the stream, the rest through the compatibility API', () => {
  let pki: TestPki;
  let api: ApiHttpServer;
  let port: number;
  const seen: string[] = [];

  beforeAll(async () => {
    pki = makeTestPki('watch-exchange');
    api = createApiHttpServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
      seen.push(`${req.method} ${req.url} ${req.constructor.name} ${res.constructor.name}`);
      res.writeHead(200, { 'content-type': 'text/plain', 'X-Kind': req.constructor.name });
      res.end(req.constructor.name);
    });
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    port = (api.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    api.closeAllConnections();
    await new Promise((resolve) => api.server.close(resolve));
  });

  test('a GET with watch=true (or a /watch/ path) is a watch; a list, a write or watch=false is not', () => {
    const get = (path: string, method = 'GET') => isWatchRequest({ ':method': method, ':path': path });
    expect(get('/api/v1/namespaces/a/configmaps?fieldSelector=metadata.name%3Dx&watch=true')).toBe(true);
    expect(get('/apis/apps/v1/deployments?watch=1&resourceVersion=5')).toBe(true);
    expect(get('/api/v1/watch/namespaces/a/pods')).toBe(true);
    expect(get('/apis/batch/v1/watch/jobs')).toBe(true);
    expect(get('/api/v1/configmaps')).toBe(false);
    expect(get('/api/v1/configmaps?watch=false')).toBe(false);
    expect(get('/api/v1/configmaps?watch=0')).toBe(false);
    expect(get('/api/v1/configmaps?nowatch=true')).toBe(false);
    expect(get('/api/v1/namespaces/watch/configmaps')).toBe(false);
    expect(get('/api/v1/configmaps?watch=true', 'POST')).toBe(false);
  });

  test('the handler gets the stream exchange for HTTP/2 watches, Node compatibility objects for the rest and for HTTP/1.1', async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: pki.ca.cert });
    try {
      const watch = await h2Get(session, '/api/v1/configmaps?watch=true');
      expect(watch).toEqual({ status: 200, contentType: 'text/plain', body: 'WatchRequest' });
      expect((await h2Get(session, '/api/v1/watch/pods')).body).toBe('WatchRequest');
      expect((await h2Get(session, '/api/v1/configmaps')).body).toBe('Http2ServerRequest');
      expect((await h2Get(session, '/api/v1/configmaps?watch=true', {}, 'DELETE')).body).toBe('Http2ServerRequest');
    } finally {
      session.close();
    }
    const http1 = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path: '/api/v1/configmaps?watch=true', ca: pki.ca.cert }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect(http1).toBe('IncomingMessage');
    expect(seen).toContain('GET /api/v1/configmaps?watch=true WatchRequest WatchResponse');
  });
});

describe('watches over HTTP/2 on a master', () => {
  let m: TestMaster;
  let client: KubeClient;
  const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
  const openWatches = async (): Promise<number> => Number(/^apiserver_registered_watchers (\d+)$/m.exec((await m.client.raw('GET', '/metrics')).body)?.[1]);

  beforeAll(async () => {
    m = await startTestMaster({ store: 'sqlite' });
    client = new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken, http2: true });
  });

  afterAll(async () => {
    client?.close();
    await m?.stop();
  });

  test('a watch streams the initial list and later changes, and is closed on the master when its client stops it', async () => {
    await m.client.create(cms, { metadata: { name: 'before' } });
    const baseline = await openWatches();
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const handle = client.watch(cms, { resourceVersion: '0', allowWatchBookmarks: true } as never, (e) => void events.push(e), (err) => void errors.push(err));
    try {
      await waitFor('the initial ADDED', async () => events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'before'), 10_000, 50);
      expect(await openWatches()).toBe(baseline + 1);
      await m.client.create(cms, { metadata: { name: 'after' } });
      await m.client.delete({ ...cms, name: 'before' });
      await waitFor('ADDED after, DELETED before', async () => events.some((e) => e.type === 'DELETED' && e.object.metadata?.name === 'before'), 10_000, 50);
      expect(events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['ADDED before', 'ADDED after', 'DELETED before']);
      // The test master sends a bookmark every second.
      await waitFor('a BOOKMARK', async () => events.some((e) => e.type === 'BOOKMARK'), 5_000, 50);
    } finally {
      handle.stop();
    }
    // The client reset its stream: the master's watch ends with it.
    await waitFor('the watch closed on the master', async () => (await openWatches()) === baseline, 10_000, 50);
    expect(errors).toEqual([]);
  });

  test('a client that resets its watch with an error code ends the watch and leaves the master serving', async () => {
    const baseline = await openWatches();
    const session = http2.connect(m.url, { ca: m.caPem });
    try {
      const req = session.request({ ':path': '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0', authorization: `Bearer ${m.adminToken}` });
      req.on('error', () => undefined);
      await new Promise((resolve) => req.once('response', resolve));
      await waitFor('the watch open on the master', async () => (await openWatches()) === baseline + 1, 10_000, 50);
      req.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      await waitFor('the watch closed on the master', async () => (await openWatches()) === baseline, 10_000, 50);
      expect((await h2Get(session, '/api/v1/namespaces/default/configmaps', { authorization: `Bearer ${m.adminToken}` })).status).toBe(200);
    } finally {
      session.close();
    }
  });

  test('a watch that times out ends its stream cleanly, and the connection goes on serving', async () => {
    const session = http2.connect(m.url, { ca: m.caPem });
    try {
      const started = Date.now();
      const answer = await h2Get(session, '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion=0', { authorization: `Bearer ${m.adminToken}` });
      expect(answer.status).toBe(200);
      expect(answer.contentType).toBe('application/json');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(answer.body.trim().split('\n').map((l) => (JSON.parse(l) as WatchEvent).type)).toContain('ADDED');
      const list = await h2Get(session, '/api/v1/namespaces/default/configmaps', { authorization: `Bearer ${m.adminToken}` });
      expect(list.status).toBe(200);
    } finally {
      session.close();
    }
    await waitFor('no watch left open', async () => (await openWatches()) === 0, 10_000, 50);
  });

  test('a watch refused before its 200 gets the Status of a 400, 401, 403 or 404 over HTTP/2', async () => {
    const dir = m.dataDir;
    const alice = YAML.parse(userKubeconfig(dir, { user: 'alice', groups: [], validDays: 1 })) as { users: { user: Record<string, string> }[] };
    const cert = Buffer.from(alice.users[0].user['client-certificate-data'], 'base64').toString();
    const key = Buffer.from(alice.users[0].user['client-key-data'], 'base64').toString();
    const anonymous = http2.connect(m.url, { ca: m.caPem });
    const asAlice = http2.connect(m.url, { ca: m.caPem, cert, key });
    const admin = { authorization: `Bearer ${m.adminToken}` };
    const status = (a: H2Answer) => ({ status: a.status, contentType: a.contentType, code: (JSON.parse(a.body) as { code: number }).code });
    try {
      expect(status(await h2Get(anonymous, '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=abc', admin))).toEqual({ status: 400, contentType: 'application/json', code: 400 });
      expect(status(await h2Get(anonymous, '/api/v1/namespaces/default/configmaps?watch=true'))).toEqual({ status: 401, contentType: 'application/json', code: 401 });
      expect(status(await h2Get(anonymous, '/api/v1/namespaces/default/nothings?watch=true', admin))).toEqual({ status: 404, contentType: 'application/json', code: 404 });
      // A client certificate signs its user in on a watch too: alice is known, and bound to nothing.
      const refused = await h2Get(asAlice, '/api/v1/namespaces/default/configmaps?watch=true');
      expect(status(refused)).toEqual({ status: 403, contentType: 'application/json', code: 403 });
      expect(JSON.parse(refused.body).message).toMatch(/User "alice" cannot watch configmaps/);
    } finally {
      anonymous.close();
      asAlice.close();
    }
  });

  test('kubectl waits on a watch over HTTP/2 with a client certificate', async () => {
    const root = join(m.dataDir, 'root.kubeconfig');
    await writeFile(root, userKubeconfig(m.dataDir, { user: 'root', groups: ['system:masters'], validDays: 1 }), { mode: 0o600 });
    await m.client.create(cms, { metadata: { name: 'doomed' } });
    const waiting = kubectl(root, ['wait', '--for=delete', 'configmap/doomed', '--timeout=30s']);
    await waitFor('kubectl watching', async () => (await openWatches()) > 0, 10_000, 50);
    await m.client.delete({ ...cms, name: 'doomed' });
    const done = await waiting;
    expect(done.stderr).toBe('');
    expect(done.stdout).toMatch(/configmap\/doomed condition met/);
  });
});
