import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { startHollowNodes, type RunningHollowNodes } from '../../../agent/hollow/hollow-nodes';
import { KubeClient } from '../../../kube/client';
import { apps, core } from '../../../kube/resource-path';
import { startControllerManager, type ControllerManagerOptions, type RunningControllerManager } from '../../../master/controllers/controller-manager';
import { StoreListWatch } from '../../../master/api/store-list-watch';
import type { MasterOptions } from '../../../master/server';
import { startTestMaster, type StoreKind, type TestMaster } from '../../support/master';

/** A master, hollow nodes (the agent's fake runtime) and a controller manager started by the test, reading the master's store as in `lotse master`. */
export interface TestCluster {
  master: TestMaster;
  client: KubeClient;
  hollow: RunningHollowNodes[];
  manager: RunningControllerManager;
  addNodes(count: number, prefix: string): Promise<RunningHollowNodes>;
  startManager(extra?: Partial<ControllerManagerOptions>): Promise<RunningControllerManager>;
  stop(): Promise<void>;
}

export async function startCluster(o: { nodes: number; store?: StoreKind; manager?: Partial<ControllerManagerOptions>; leaseIntervalMs?: number; master?: Partial<MasterOptions> }): Promise<TestCluster> {
  const master = await startTestMaster({ store: o.store, master: o.master });
  const dataDir = mkdtempSync(join(tmpdir(), 'lotse-hollow-'));
  const hollow: RunningHollowNodes[] = [];
  const managers: { cm: RunningControllerManager; client: KubeClient }[] = [];
  const cluster: TestCluster = {
    master,
    client: master.client,
    hollow,
    manager: undefined as unknown as RunningControllerManager,
    addNodes: async (count, prefix) => {
      const h = await startHollowNodes({ server: master.url, caPem: master.caPem, token: master.joinToken, count, namePrefix: prefix, dataDir, leaseIntervalMs: o.leaseIntervalMs ?? 2000 });
      hollow.push(h);
      return h;
    },
    startManager: async (extra = {}) => {
      const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
      // Informers read the master's store, as `lotse master` runs them (masterControllers).
      const cm = await startControllerManager({ client, listWatch: new StoreListWatch(master.store, client), identity: `test-${managers.length}`, log: process.env.LOTSE_TEST_LOG ? (m, f) => console.log(m, f) : undefined, ...o.manager, ...extra });
      managers.push({ cm, client });
      return cm;
    },
    stop: async () => {
      for (const m of managers) {
        await m.cm.stop().catch(() => undefined);
        m.client.close();
      }
      for (const h of hollow) await h.stop().catch(() => undefined);
      await master.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    if (o.nodes > 0) await cluster.addNodes(o.nodes, 'node');
    cluster.manager = await cluster.startManager();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Polls `check` until it returns a value other than undefined/false, or fails with `what` after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function listPods(client: KubeClient, ns: string, selector?: string): Promise<Pod[]> {
  return (await client.list<Pod>(core('pods', ns), { labelSelector: selector })).items;
}

/** Creates the Deployment `name` in default: `replicas` pods labelled app=NAME, one container of a made-up image (hollow nodes run anything). */
export async function createDeployment(client: KubeClient, name: string, replicas: number): Promise<Deployment> {
  return client.create<Deployment>(apps('deployments', 'default'), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'img:a' }] } } },
  } as Deployment);
}

export const isRunningReady = (p: Pod): boolean =>
  !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Waits until the Node reports Ready=True. */
export async function waitNodeReady(client: KubeClient, name: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`node ${name} Ready`, async () => {
    const n = await client.get<Node>(core('nodes', undefined, name)).catch(() => undefined);
    return n?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
  }, timeoutMs);
}
