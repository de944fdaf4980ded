import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';
import { makeTestPki } from '../support/test-certs';

type Answer = { status: number; retryAfter?: string };

/** A server (HTTP/2 and HTTP/1.1) that gives each request the next scripted answer, then 200s. */
async function scriptedServer(pki: ReturnType<typeof makeTestPki>, script: Answer[]): Promise<{ url: string; seen: { method: string; at: number }[]; close(): Promise<void> }> {
  const seen: { method: string; at: number }[] = [];
  const server = http2.createSecureServer({ cert: pki.server.cert, key: pki.server.key, allowHTTP1: true }, (req, res) => {
    seen.push({ method: req.method, at: Date.now() });
    const next = script.shift() ?? { status: req.method === 'POST' ? 201 : 200 };
    res.writeHead(next.status, { 'content-type': 'application/json', ...(next.retryAfter !== undefined ? { 'retry-after': next.retryAfter } : {}) });
    const body = next.status < 300 ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } } : { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: next.status, reason: 'TooManyRequests', message: 'catching up' };
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe.each([false, true])('KubeClient and Retry-After (http2: %s)', (useHttp2) => {
  const pki = makeTestPki();
  const ref = core('configmaps', 'default', 'c');

  test('a read answered 429 with Retry-After is asked again after that many seconds', async () => {
    const server = await scriptedServer(pki, [{ status: 429, retryAfter: '1' }, { status: 504, retryAfter: '0' }]);
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't', http2: useHttp2 });
    try {
      await expect(client.get(ref)).resolves.toMatchObject({ kind: 'ConfigMap' });
      expect(server.seen.map((s) => s.method)).toEqual(['GET', 'GET', 'GET']);
      expect(server.seen[1].at - server.seen[0].at).toBeGreaterThanOrEqual(950);
    } finally {
      client.close();
      await server.close();
    }
  });

  test('a write refused with 429 and Retry-After is sent again; one answered 5xx is not', async () => {
    const server = await scriptedServer(pki, [{ status: 429, retryAfter: '0' }, { status: 504, retryAfter: '0' }]);
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't', http2: useHttp2 });
    try {
      await expect(client.create(core('configmaps', 'default'), { metadata: { name: 'c' } })).rejects.toMatchObject({ code: 504 });
      expect(server.seen.map((s) => s.method)).toEqual(['POST', 'POST']);
    } finally {
      client.close();
      await server.close();
    }
  });

  test('a caller with its own back-off (resendRefused: false) gets the 429 at once, Retry-After or not', async () => {
    const server = await scriptedServer(pki, [{ status: 429, retryAfter: '0' }, { status: 429, retryAfter: '0' }]);
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't', http2: useHttp2 });
    try {
      await expect(client.patch(ref, 'merge', { data: {} }, '', { resendRefused: false })).rejects.toMatchObject({ code: 429 });
      await expect(client.create(core('configmaps', 'default'), { metadata: { name: 'c' } }, { resendRefused: false })).rejects.toMatchObject({ code: 429 });
      expect(server.seen.map((s) => s.method)).toEqual(['PATCH', 'POST']);
    } finally {
      client.close();
      await server.close();
    }
  });

  test('without Retry-After, or past 5 retries, the error reaches the caller', async () => {
    const server = await scriptedServer(pki, [{ status: 429 }, { status: 409, retryAfter: '0' }, ...Array.from({ length: 6 }, () => ({ status: 503, retryAfter: '0' }))]);
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't', http2: useHttp2 });
    try {
      await expect(client.get(ref)).rejects.toMatchObject({ code: 429 });
      await expect(client.create(core('configmaps', 'default'), { metadata: { name: 'c' } })).rejects.toMatchObject({ code: 409 });
      await expect(client.get(ref)).rejects.toMatchObject({ code: 503 });
      expect(server.seen.map((s) => s.method)).toEqual(['GET', 'POST', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET']);
    } finally {
      client.close();
      await server.close();
    }
  });
});
