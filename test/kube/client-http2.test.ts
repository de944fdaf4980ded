import { execFileSync } from 'node:child_process';
import type { ConfigMap } from 'kubernetes-types/core/v1';
import { KubeClient } from '../../kube/client';
import type { WatchEvent } from '../../kube/object';
import { core } from '../../kube/resource-path';
import { startTestMaster, type TestMaster } from '../support/master';

let master: TestMaster;

beforeAll(async () => {
  master = await startTestMaster();
}, 30_000);

afterAll(async () => {
  await master?.stop();
});

/** Connections open to the master's port from clients (ss, established, by destination port). */
function clientConnections(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

test('over HTTP/2 one client sends requests and holds many watches on one connection', async () => {
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, http2: true });
  expect(clientConnections(master.port)).toBe(0);
  try {
    const names = Array.from({ length: 20 }, (_, i) => `h2-${i}`);
    const events: string[] = [];
    const watches = names.map((name) => client.watch<ConfigMap>(core('configmaps', 'default'), { fieldSelector: `metadata.name=${name}` }, (e: WatchEvent<ConfigMap>) => events.push(`${e.type} ${e.object.metadata?.name}`)));
    await Promise.all(names.map((name) => client.create(core('configmaps', 'default'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } } as ConfigMap)));
    const got = await client.get<ConfigMap>(core('configmaps', 'default', 'h2-7'));
    expect(got.data).toEqual({ a: '1' });
    const deadline = Date.now() + 10_000;
    while (events.filter((e) => e.startsWith('ADDED')).length < names.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(events.filter((e) => e.startsWith('ADDED')).sort()).toEqual(names.map((n) => `ADDED ${n}`).sort());
    // 20 watches and 21 requests on one connection (HTTP/1.1 would need a connection per watch).
    expect(clientConnections(master.port)).toBe(1);
    await expect(client.get(core('configmaps', 'default', 'missing'))).rejects.toMatchObject({ code: 404 });
    for (const w of watches) w.stop();
    await Promise.all(watches.map((w) => w.done));
  } finally {
    client.close();
  }
}, 30_000);

test('over HTTP/2 a new session resumes the TLS session of the last one, sparing the master a full handshake', async () => {
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, http2: true });
  try {
    await client.list(core('namespaces'));
    expect(client.http2Sessions).toEqual({ sessions: 1, resumed: 0 });
    client.close(); // drops the session, as a ping unanswered or a GOAWAY would
    await client.list(core('namespaces'));
    expect(client.http2Sessions).toEqual({ sessions: 2, resumed: 1 });
  } finally {
    client.close();
  }
}, 30_000);

test('over HTTP/2 a request to a master that is gone fails with the cause, and a new master is reached again', async () => {
  const other = await startTestMaster();
  const client = new KubeClient({ server: other.url, ca: other.caPem, token: other.adminToken, http2: true, timeoutMs: 5_000 });
  try {
    await client.list(core('namespaces'));
    const restarted = await other.restart();
    // The old session died with the master; the next request opens a new one, with a full
    // handshake: the restarted master has new ticket keys and cannot resume the old session.
    const list = await client.list(core('namespaces'));
    expect(list.items.length).toBeGreaterThan(0);
    expect(client.http2Sessions).toEqual({ sessions: 2, resumed: 0 });
    await restarted.stop();
    await expect(client.list(core('namespaces'))).rejects.toThrow(/ECONNREFUSED|closed|GOAWAY|socket/i);
  } finally {
    client.close();
  }
}, 60_000);
