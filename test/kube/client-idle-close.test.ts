import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';
import { makeTestPki } from '../support/test-certs';

/**
 * A server that drops a kept-alive connection when its second request arrives, as a server
 * closing an idle connection does when a request crosses the close.
 */
async function droppingServer(pki: ReturnType<typeof makeTestPki>): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const perSocket = new WeakMap<Socket, number>();
  const seen: string[] = [];
  const server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    seen.push(`${req.method} #${n}`);
    if (n === 2) return void req.socket.destroy();
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('KubeClient on a connection the server closes', () => {
  const pki = makeTestPki();

  test('an idempotent request is sent again once on a new connection; a POST is not', async () => {
    const server = await droppingServer(pki);
    const client = new KubeClient({ server: server.url, ca: pki.ca.cert, token: 't' });
    try {
      const ref = core('configmaps', 'default', 'c');
      await expect(client.get(ref)).resolves.toMatchObject({ kind: 'ConfigMap' });
      // The kept-alive connection is dropped as the second GET arrives: answered from a new one.
      await expect(client.get(ref)).resolves.toMatchObject({ kind: 'ConfigMap' });
      expect(server.seen).toEqual(['GET #1', 'GET #2', 'GET #1']);
      // A create may have been carried out before the drop: it fails and says why instead.
      await expect(client.create(core('configmaps', 'default'), { metadata: { name: 'c' } })).rejects.toThrow(/POST .*(ECONNRESET|socket hang up)/);
      expect(server.seen).toEqual(['GET #1', 'GET #2', 'GET #1', 'POST #2']);
    } finally {
      client.close();
      await server.close();
    }
  });
});
