import https from 'node:https';
import { startTestMaster, type TestMaster } from '../../support/master';

describe('the API server keeps idle connections', () => {
  let master: TestMaster;
  beforeAll(async () => {
    master = await startTestMaster();
  });
  afterAll(async () => {
    await master.stop();
  });

  // A node renews its Lease every 10 s: its connection must outlive that pause, or every renewal
  // pays a TLS handshake and may cross the master's close of the idle connection.
  test('a connection idle for longer than Node’s default 5 s still serves the next request', async () => {
    const agent = new https.Agent({ ca: master.caPem, keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const get = (): Promise<number> => new Promise((resolve, reject) => {
      const req = https.get(`${master.url}/api/v1/namespaces/default`, { agent, headers: { authorization: `Bearer ${master.adminToken}` } }, (res) => {
        sockets.add(req.socket);
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    try {
      expect(await get()).toBe(200);
      await new Promise((r) => setTimeout(r, 6_500));
      expect(await get()).toBe(200);
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  }, 20_000);
});
