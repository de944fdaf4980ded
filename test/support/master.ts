import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../kube/client';
import { startMaster, type ControllerStarter, type MasterOptions, type RunningMaster } from '../../master/server';
import { startEtcd, type RunningEtcd } from './etcd';

export type StoreKind = 'sqlite' | 'etcd';

export interface TestMaster extends RunningMaster {
  client: KubeClient;
  kubeconfigPath: string;
  etcd?: RunningEtcd;
  /** Stops the master (and its etcd) and removes the data dir. */
  stop(): Promise<void>;
  /** Stops and starts the master on the same data dir, store and port. */
  restart(): Promise<TestMaster>;
}

export interface TestMasterOptions {
  store?: StoreKind;
  controllers?: ControllerStarter;
  /** Extra options for startMaster. */
  master?: Partial<MasterOptions>;
}

/** The store kinds every API test runs against. */
export const storeKinds: StoreKind[] = ['sqlite', 'etcd'];

/**
 * A real master on a loopback port with a temp data dir, on SQLite or on a real etcd that the
 * helper starts too. Quiet logs unless LOTSE_LOG_LEVEL is set.
 */
export async function startTestMaster(options: TestMasterOptions = {}): Promise<TestMaster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lotse-master-'));
  const etcd = options.store === 'etcd' ? await startEtcd() : undefined;
  return boot(dataDir, etcd, options, '127.0.0.1:0');
}

async function boot(dataDir: string, etcd: RunningEtcd | undefined, options: TestMasterOptions, listen: string): Promise<TestMaster> {
  process.env.LOTSE_LOG_LEVEL ??= 'warn';
  const master = await startMaster({
    dataDir,
    listen,
    store: etcd ? `etcd://${etcd.hostPort}` : undefined,
    controllers: options.controllers,
    bookmarkIntervalMs: 1000,
    ...options.master,
  });
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const test: TestMaster = {
    ...master,
    client,
    etcd,
    stop: async () => {
      client.close();
      await master.close();
      await etcd?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    restart: async () => {
      client.close();
      await master.close();
      return boot(dataDir, etcd, options, `127.0.0.1:${master.port}`);
    },
  };
  return test;
}
