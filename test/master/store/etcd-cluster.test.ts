import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../../kube/client';
import { core } from '../../../kube/resource-path';
import { startMaster, type RunningMaster } from '../../../master/server';
import { startEtcdCluster, type EtcdCluster } from '../../support/etcd-cluster';

jest.setTimeout(120_000);

/** A master on a three-member etcd: losing the etcd leader under write load loses no acknowledged write. */
describe('a master on a three-member etcd cluster', () => {
  let etcd: EtcdCluster;
  let master: RunningMaster;
  let client: KubeClient;
  const dataDir = mkdtempSync(join(tmpdir(), 'lotse-master-ha-'));

  beforeAll(async () => {
    etcd = await startEtcdCluster(3);
    process.env.LOTSE_LOG_LEVEL ??= 'warn';
    master = await startMaster({ dataDir, listen: '127.0.0.1:0', store: etcd.storeSpec });
    client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    client?.close();
    await master?.close();
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('SIGKILL of the etcd leader under write load: every acknowledged write is kept, writes continue, the member rejoins', async () => {
    const acknowledged: string[] = [];
    const failed: string[] = [];
    let killedAt = 0;
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const name = `w${w}-${i}`;
        try {
          await client.create(core('configmaps', 'default'), { metadata: { name } });
          acknowledged.push(name);
        } catch {
          failed.push(name);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    await new Promise((r) => setTimeout(r, 1500));
    const leader = await etcd.leader();
    const before = acknowledged.length;
    const pid = leader.pid();
    await leader.kill9();
    killedAt = Date.now();
    expect(pid).toBeDefined();
    expect(() => process.kill(pid as number, 0)).toThrow(); // the etcd process itself is gone
    await new Promise((r) => setTimeout(r, 6000));
    const afterKill = acknowledged.length - before;
    stop = true;
    await writers;

    const stored = new Set((await client.list(core('configmaps', 'default'))).items.map((c) => c.metadata?.name));
    const lost = acknowledged.filter((n) => !stored.has(n));
    expect(lost).toEqual([]);
    expect(before).toBeGreaterThan(20);
    // Writes went on through the two remaining members.
    expect(afterKill).toBeGreaterThan(50);
    expect(Date.now() - killedAt).toBeGreaterThan(5000);

    await leader.start();
    const members = await fetch(`http://${leader.hostPort}/v3/cluster/member/list`, { method: 'POST', body: '{}' }).then((r) => r.json() as Promise<{ members: unknown[] }>);
    expect(members.members).toHaveLength(3);
    await client.create(core('configmaps', 'default'), { metadata: { name: 'after-rejoin' } });
    // The member that came back has every write, the ones made while it was down included.
    const direct = await fetch(`http://${leader.hostPort}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/registry/core/configmaps/default/after-rejoin').toString('base64'), serializable: true }) }).then((r) => r.json() as Promise<{ kvs?: unknown[] }>);
    const deadline = Date.now() + 5000;
    let seen = (direct.kvs ?? []).length;
    while (seen === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const again = await fetch(`http://${leader.hostPort}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/registry/core/configmaps/default/after-rejoin').toString('base64'), serializable: true }) }).then((r) => r.json() as Promise<{ kvs?: unknown[] }>);
      seen = (again.kvs ?? []).length;
    }
    expect(seen).toBe(1);
    process.stdout.write(`etcd leader kill: ${before} writes before, ${afterKill} in the 6 s after, ${failed.length} refused, none lost\n`);
  });
});
