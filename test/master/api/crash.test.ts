import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../../kube/client';
import { startEtcd, type RunningEtcd } from '../../support/etcd';
import { freePort, startMasterProcess } from '../../support/master-process';

jest.setTimeout(90_000);

const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };

describe.each(['sqlite', 'etcd'] as const)('kill -9 of the master under write load (%s)', (store) => {
  let dataDir: string;
  let etcd: RunningEtcd | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lotse-crash-'));
    if (store === 'etcd') etcd = await startEtcd({ onDisk: true });
  });
  afterAll(async () => {
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('every write the master acknowledged is there after a restart', async () => {
    const port = await freePort();
    const storeArgs = etcd ? ['--store', `etcd://${etcd.hostPort}`, '--no-controllers'] : ['--no-controllers'];
    const master = await startMasterProcess(dataDir, port, storeArgs);
    const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, timeoutMs: 5000 });
    const acked: string[] = [];
    const failures: string[] = [];
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const name = `w${w}-${i}`;
        try {
          await client.create(cms, { metadata: { name }, data: { payload: 'x'.repeat(512) } } as never);
          acked.push(name);
        } catch (err) {
          failures.push((err as Error).message);
          return; // the master is gone: whatever was not acknowledged may or may not be there
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    while (acked.length < 300) {
      if (failures.length === 8) throw new Error(`every writer failed before the kill: ${failures[0]}\n${master.log()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await master.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    client.close();
    const ackedAtKill = [...acked];

    const again = await startMasterProcess(dataDir, port, storeArgs);
    const after = new KubeClient({ server: again.url, ca: again.caPem, token: again.adminToken });
    try {
      const list = await after.list(cms);
      const present = new Set(list.items.map((i) => i.metadata?.name));
      const lost = ackedAtKill.filter((n) => !present.has(n));
      expect(ackedAtKill.length).toBeGreaterThanOrEqual(300);
      expect(lost).toEqual([]);
    } finally {
      after.close();
      await again.kill();
    }
  });
});
