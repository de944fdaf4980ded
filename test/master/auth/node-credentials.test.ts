import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { Secret } from 'kubernetes-types/core/v1';
import { bootstrapTokenSecret, formatBootstrapToken, newBootstrapToken } from '../../../cluster/bootstrap-token';
import { KubeClient } from '../../../kube/client';
import { core } from '../../../kube/resource-path';
import { BootstrapTokenCleaner } from '../../../master/controllers/bootstrap-token-cleaner/bootstrap-token-cleaner';
import { rawRequest } from '../../support/https-raw';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

const secrets = core('secrets', 'kube-system');
const TTL_MS = 3000;

interface Joined {
  token: string;
  tokenExpiresAt: string;
}

describe.each(storeKinds)('bootstrap tokens and node credentials on %s', (store) => {
  let m: TestMaster;

  beforeAll(async () => {
    m = await startTestMaster({ store, master: { nodeCredentialTtlMs: TTL_MS } });
  });
  afterAll(async () => {
    await m?.stop();
  });

  const join = (token: string, nodeName: string) =>
    rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token, body: JSON.stringify({ nodeName, addresses: ['127.0.0.1'] }) });
  const get = (token: string, path = '/api/v1/nodes/x') => rawRequest(m.url, m.caPem, 'GET', path, { token });
  const createToken = async (options: { ttlMs?: number; usages?: boolean; expiration?: string } = {}): Promise<string> => {
    const t = newBootstrapToken();
    const secret = bootstrapTokenSecret(t, { ttlMs: options.ttlMs ?? 60_000 }) as unknown as Secret & { data: Record<string, string> };
    if (options.usages === false) delete secret.data['usage-bootstrap-authentication'];
    if (options.expiration) secret.data.expiration = Buffer.from(options.expiration).toString('base64');
    await m.client.create(secrets, secret);
    return formatBootstrapToken(t);
  };

  test('a bootstrap token joins a node; a wrong secret, an expired token or one without the authentication usage does not', async () => {
    const token = await createToken();
    const ok = await join(token, 'bt-node');
    expect(ok.status).toBe(201);
    const wrong = `${token.slice(0, 7)}${'a'.repeat(16)}`;
    expect((await join(wrong, 'bt-node-2')).status).toBe(401);
    expect((await join(await createToken({ expiration: '2020-01-01T00:00:00Z' }), 'bt-node-3')).status).toBe(401);
    expect((await join(await createToken({ usages: false }), 'bt-node-4')).status).toBe(401);
    // A token for an ID nobody created.
    expect((await join(formatBootstrapToken(newBootstrapToken()), 'bt-node-5')).status).toBe(401);
  });

  test('a bootstrap token may only join: reading anything is forbidden', async () => {
    const token = await createToken();
    const r = await get(token, '/api/v1/namespaces/kube-system/secrets');
    expect(r.status).toBe(403);
  });

  test('a deleted bootstrap token no longer joins', async () => {
    const token = await createToken();
    await m.client.delete(core('secrets', 'kube-system', `bootstrap-token-${token.slice(0, 6)}`));
    expect((await join(token, 'bt-gone')).status).toBe(401);
  });

  test('the token cleaner deletes expired tokens and leaves live ones', async () => {
    const live = await createToken({ ttlMs: 600_000 });
    const expired = await createToken({ expiration: new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') });
    const cleaner = new BootstrapTokenCleaner({ client: m.client, informers: undefined as never, recorder: () => undefined as never, log: () => undefined });
    const deleted = await cleaner.sweep();
    expect(deleted).toContain(expired.slice(0, 6));
    expect(deleted).not.toContain(live.slice(0, 6));
    const names = (await m.client.list(secrets)).items.map((s) => s.metadata?.name);
    expect(names).toContain(`bootstrap-token-${live.slice(0, 6)}`);
    expect(names).not.toContain(`bootstrap-token-${expired.slice(0, 6)}`);
  });

  test('a node credential expires after the TTL; renewing before gives a new one with a later expiry', async () => {
    const joined = JSON.parse((await join(m.joinToken, 'exp-node')).body) as Joined;
    const expires = Date.parse(joined.tokenExpiresAt);
    expect(expires - Date.now()).toBeGreaterThan(TTL_MS - 1500);
    expect(expires - Date.now()).toBeLessThanOrEqual(TTL_MS);
    expect((await get(joined.token, '/api/v1/nodes/exp-node')).status).toBe(404); // authenticated: no Node yet
    await new Promise((r) => setTimeout(r, 1000));
    const renew = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/renew', { token: joined.token, body: '{}' });
    expect(renew.status).toBe(201);
    const renewed = JSON.parse(renew.body) as Joined;
    expect(renewed.token).not.toBe(joined.token);
    expect(Date.parse(renewed.tokenExpiresAt)).toBeGreaterThan(expires);
    await new Promise((r) => setTimeout(r, Math.max(0, expires - Date.now()) + 200));
    expect((await get(joined.token, '/api/v1/nodes/exp-node')).status).toBe(401);
    expect((await get(renewed.token, '/api/v1/nodes/exp-node')).status).toBe(404);
  });

  test('a node that sends its own public key gets a certificate for it and no key; a weak key is refused', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const r = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'own-key', addresses: [], servingPublicKey: publicKey.export({ type: 'spki', format: 'pem' }) }) });
    expect(r.status).toBe(201);
    const joined = JSON.parse(r.body) as { servingCert: string; servingKey: string };
    expect(joined.servingKey).toBe('');
    const cert = new X509Certificate(joined.servingCert);
    expect(cert.checkPrivateKey(privateKey)).toBe(true);
    expect(cert.subject).toContain('CN=system:node:own-key');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' });
    const refused = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'weak-key', addresses: [], servingPublicKey: weak }) });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('an RSA key of at least 2048 bits or an EC P-256 key');
  });

  test('only a node renews, and only its own credential', async () => {
    expect((await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/renew', { token: m.joinToken, body: '{}' })).status).toBe(403);
    expect((await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/renew', { token: m.adminToken, body: '{}' })).status).toBe(403);
  });

  test("deleting the Node revokes the node's credentials at once", async () => {
    const other = await startTestMaster({ store, master: { nodeCredentialTtlMs: 600_000 } });
    try {
      const joined = JSON.parse((await rawRequest(other.url, other.caPem, 'POST', '/lotse/v1/join', { token: other.joinToken, body: JSON.stringify({ nodeName: 'rv-node', addresses: [] }) })).body) as Joined;
      const node = new KubeClient({ server: other.url, ca: other.caPem, token: joined.token });
      await node.create(core('nodes'), { metadata: { name: 'rv-node' } });
      await expect(node.get(core('nodes', undefined, 'rv-node'))).resolves.toBeDefined();
      await other.client.delete(core('nodes', undefined, 'rv-node'));
      const deadline = Date.now() + 3000;
      let status = 0;
      while (Date.now() < deadline && status !== 401) {
        status = (await rawRequest(other.url, other.caPem, 'GET', '/api/v1/nodes/rv-node', { token: joined.token })).status;
        if (status !== 401) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(401);
      node.close();
    } finally {
      await other.stop();
    }
  });
});
