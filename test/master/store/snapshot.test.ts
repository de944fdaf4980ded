import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { KubeClient } from '../../../kube/client';
import { core } from '../../../kube/resource-path';
import { lotse } from '../../cli/lotse-cli';
import { rawRequest } from '../../support/https-raw';
import { startEtcd, type RunningEtcd } from '../../support/etcd';
import { startTestMaster, type TestMaster } from '../../support/master';
import { startMaster } from '../../../master/server';

jest.setTimeout(180_000);

const cms = core('configmaps', 'default');

/** Fills a master with objects and a node credential, to be found again after the restore. */
async function populate(m: TestMaster): Promise<{ nodeToken: string; uids: Map<string, string> }> {
  await m.client.create(core('namespaces'), { metadata: { name: 'keep' } });
  const uids = new Map<string, string>();
  for (let i = 0; i < 120; i++) {
    const cm = await m.client.create(core('configmaps', i % 2 ? 'default' : 'keep'), { metadata: { name: `cm-${i}` }, data: { i: String(i), text: 'ü'.repeat(i) } } as never);
    uids.set(`${cm.metadata?.namespace}/cm-${i}`, cm.metadata?.uid as string);
  }
  await m.client.create(core('secrets', 'keep'), { metadata: { name: 's' }, stringData: { password: 'hunter2' } } as never);
  const joined = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'snap-node', addresses: [] }) });
  return { nodeToken: (JSON.parse(joined.body) as { token: string }).token, uids };
}

async function expectRestored(server: { url: string; caPem: string; adminToken: string }, nodeToken: string, uids: Map<string, string>): Promise<void> {
  const client = new KubeClient({ server: server.url, ca: server.caPem, token: server.adminToken });
  try {
    const all = [...(await client.list(cms)).items, ...(await client.list(core('configmaps', 'keep'))).items].filter((c) => c.metadata?.name?.startsWith('cm-'));
    expect(all).toHaveLength(120);
    for (const c of all) expect(c.metadata?.uid).toBe(uids.get(`${c.metadata?.namespace}/${c.metadata?.name}`));
    const secret = await client.get(core('secrets', 'keep', 's'));
    expect(Buffer.from((secret as unknown as { data: { password: string } }).data.password, 'base64').toString()).toBe('hunter2');
    // The node's credential lives in the store too: it still authenticates.
    expect((await rawRequest(server.url, server.caPem, 'GET', '/api/v1/nodes/snap-node', { token: nodeToken })).status).toBe(404);
  } finally {
    client.close();
  }
}

describe('lotse etcd snapshot and restore', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'lotse-snapshot-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('etcd: snapshot a running cluster, lose the etcd, restore into a new one: every object and credential returns', async () => {
    const m = await startTestMaster({ store: 'etcd' });
    const etcd = m.etcd as RunningEtcd;
    const { nodeToken, uids } = await populate(m);
    const file = join(tmp(), 'cluster.snap');
    const saved = await lotse(['etcd', 'snapshot', file, '--store', `etcd://${etcd.hostPort}`], process.env);
    expect([saved.code, saved.stderr]).toEqual([0, '']);
    expect(saved.stdout).toMatch(/snapshot of etcd:\/\/.* at revision \d+: \d+ keys in/);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(gunzipSync(readFileSync(file)).toString()).not.toContain('hunter2'); // base64 in the store, as in etcd
    const dataDir = m.dataDir;
    await m.stop(); // the etcd is gone with it
    const fresh = await startEtcd();
    try {
      const restored = await lotse(['etcd', 'restore', file, '--store', `etcd://${fresh.hostPort}`], process.env);
      expect([restored.code, restored.stdout]).toEqual([0, expect.stringMatching(/^restored \d+ keys/)]);
      const again = await lotse(['etcd', 'restore', file, '--store', `etcd://${fresh.hostPort}`], process.env);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain('the target store is not empty');
      const dir = tmp();
      const master = await startMaster({ dataDir: dir, listen: '127.0.0.1:0', store: `etcd://${fresh.hostPort}` });
      try {
        expect(dataDir).toBeTruthy();
        await expectRestored(master, nodeToken, uids);
      } finally {
        await master.close();
      }
    } finally {
      await fresh.stop();
    }
  });

  test('SQLite: the same file format backs up a single-master cluster and moves it onto etcd', async () => {
    const m = await startTestMaster();
    const { nodeToken, uids } = await populate(m);
    const file = join(tmp(), 'sqlite.snap');
    // Through the running master: its SQLite file is locked to it.
    const saved = await lotse(['etcd', 'snapshot', file, '--kubeconfig', m.kubeconfigPath], process.env);
    expect([saved.code, saved.stderr]).toEqual([0, '']);
    expect(saved.stdout).toMatch(/^snapshot of the cluster at https:\/\/127.0.0.1:\d+ at revision \d+: \d+ keys in/);
    const viewer = await lotse(['etcd', 'snapshot', join(tmp(), 'viewer.snap'), '--kubeconfig', join(m.dataDir, 'viewer.kubeconfig')], process.env);
    expect([viewer.code, viewer.stderr]).toEqual([1, expect.stringContaining('HTTP 403')]);
    const restart = await m.restart();
    const target = tmp();
    const intoSqlite = await lotse(['etcd', 'restore', file, '--store', `sqlite:${join(target, 'state.db')}`], process.env);
    expect(intoSqlite.code).toBe(0);
    const etcd = await startEtcd();
    try {
      const intoEtcd = await lotse(['etcd', 'restore', file, '--store', `etcd://${etcd.hostPort}`], process.env);
      expect(intoEtcd.code).toBe(0);
      // The restored masters use the original data dir's CA and tokens: a copy of it, as on a replacement machine.
      for (const store of [`sqlite:${join(target, 'state.db')}`, `etcd://${etcd.hostPort}`]) {
        const master = await startMaster({ dataDir: restart.dataDir, listen: '127.0.0.1:0', store });
        try {
          await expectRestored(master, nodeToken, uids);
        } finally {
          await master.close();
        }
      }
    } finally {
      await etcd.stop();
      await restart.stop();
    }
  });

  test('a truncated or altered snapshot is refused before anything is written', async () => {
    const m = await startTestMaster();
    try {
      await populate(m);
      const dir = tmp();
      const file = join(dir, 'whole.snap');
      expect((await lotse(['etcd', 'snapshot', file, '--kubeconfig', m.kubeconfigPath], process.env)).code).toBe(0);
      const lines = gunzipSync(readFileSync(file)).toString().split('\n');
      writeFileSync(join(dir, 'cut.snap'), gzipSync(lines.slice(0, 50).join('\n') + '\n'));
      writeFileSync(join(dir, 'changed.snap'), gzipSync(lines.join('\n').replace('"i":"7"', '"i":"8"')));
      for (const [name, message] of [['cut.snap', 'is truncated'], ['changed.snap', 'is damaged']]) {
        const target = join(dir, `${name}.db`);
        const r = await lotse(['etcd', 'restore', join(dir, name), '--store', `sqlite:${target}`], process.env);
        expect([r.code, r.stderr]).toEqual([1, expect.stringContaining(message)]);
        const master = await startMaster({ dataDir: m.dataDir, listen: '127.0.0.1:0', store: `sqlite:${target}` });
        try {
          const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
          expect((await client.list(cms)).items.filter((c) => c.metadata?.name?.startsWith('cm-'))).toHaveLength(0);
          client.close();
        } finally {
          await master.close();
        }
      }
    } finally {
      await m.stop();
    }
  });

  test('a watch from a resourceVersion the restored store has not reached is 504 ResourceVersionTooLarge, not a silent stall', async () => {
    const m = await startTestMaster();
    try {
      const r = await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=999999999', { token: m.adminToken });
      expect(r.status).toBe(504);
      const status = JSON.parse(r.body) as { message: string; details: { causes: { reason: string }[] } };
      expect(status.message).toMatch(/^Too large resource version: 999999999, current: \d+$/);
      expect(status.details.causes[0].reason).toBe('ResourceVersionTooLarge');
    } finally {
      await m.stop();
    }
  });
});
