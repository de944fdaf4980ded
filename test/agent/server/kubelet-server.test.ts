import https from 'node:https';
import { createCa, issueCertificate, type KeyPair } from '../../../cluster/certificates';
import { startKubeletServer, type RunningKubeletServer } from '../../../agent/server/kubelet-server';
import { FakeRuntime } from '../../../agent/hollow/fake-runtime';

let ca: KeyPair;
let server: RunningKubeletServer;

beforeAll(async () => {
  ca = createCa('kubelet-test-ca');
  const serving = issueCertificate(ca, { commonName: 'system:node:n1', sans: ['127.0.0.1'], serverAuth: true });
  server = await startKubeletServer({
    port: 0, host: '127.0.0.1', caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, runtime: new FakeRuntime('n1'),
    locate: async (ns, pod) => (pod === 'here' ? { id: 'x' } : { code: 404, message: `pod ${ns}/${pod} is not on this node` }),
    podAddress: async (ns, pod) => (pod === 'here' ? { ip: '127.0.0.1' } : { code: 404, message: `pod ${ns}/${pod} is not on this node` }),
  });
});

afterAll(() => server?.close());

function get(path: string, client?: KeyPair): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: server.port, path, ca: ca.certPem, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('only the master (cluster CA, CN lotse:master) gets logs; others are refused', async () => {
  const master = issueCertificate(ca, { commonName: 'lotse:master', clientAuth: true });
  const intruder = issueCertificate(ca, { commonName: 'someone-else', clientAuth: true });
  const foreignCa = createCa('other-ca');
  const foreign = issueCertificate(foreignCa, { commonName: 'lotse:master', clientAuth: true });
  expect(await get('/containerLogs/default/here/main', master)).toEqual({ status: 200, body: '' });
  expect((await get('/containerLogs/default/gone/main', master)).status).toBe(404);
  expect((await get('/containerLogs/default/here/main', intruder)).status).toBe(403);
  await expect(get('/containerLogs/default/here/main', foreign)).rejects.toThrow();
  await expect(get('/containerLogs/default/here/main')).rejects.toThrow();
});
