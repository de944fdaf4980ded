import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { startHollowNodes, type RunningHollowNodes } from '../../../agent/hollow/hollow-nodes';
import { KubeClient } from '../../../kube/client';
import { apps } from '../../../kube/resource-path';
import { masterControllers } from '../../../master/controllers/master-controllers';
import { startMaster, type RunningMaster } from '../../../master/server';
import { startTestMaster, type TestMaster } from '../../support/master';
import { isRunningReady, listPods, waitFor } from './cluster';

const leaderElectionTiming = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };
const leaseRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'lotse-controller-manager' };

describe('two masters on one etcd', () => {
  let a: TestMaster | undefined;
  let b: RunningMaster | undefined;
  let leaderClosed: RunningMaster | undefined;
  let client: KubeClient | undefined;
  let nodes: RunningHollowNodes | undefined;
  const bDir = mkdtempSync(join(tmpdir(), 'lotse-master-b-'));
  const hollowDir = mkdtempSync(join(tmpdir(), 'lotse-hollow-'));
  afterAll(async () => {
    await nodes?.stop();
    client?.close();
    if (b && leaderClosed !== b) await b.close();
    if (a && leaderClosed === a) {
      a.client.close();
      await a.etcd?.stop();
      rmSync(a.dataDir, { recursive: true, force: true });
    } else await a?.stop();
    rmSync(bDir, { recursive: true, force: true });
    rmSync(hollowDir, { recursive: true, force: true });
  });

  it('run one scheduler and one set of controllers; the standby takes over when the leader stops', async () => {
    a = await startTestMaster({ store: 'etcd', controllers: masterControllers({ leaderElectionTiming }) });
    // The second master shares the first one's PKI and tokens, as bootstrap gives every master the same.
    cpSync(a.dataDir, bDir, { recursive: true });
    b = await startMaster({ dataDir: bDir, listen: '127.0.0.1:0', store: `etcd://${a.etcd?.hostPort}`, controllers: masterControllers({ leaderElectionTiming }) });
    const masters = [a, b];
    const holder = await waitFor('a lease holder', async () => (await a?.client.get<Lease>(leaseRef))?.spec?.holderIdentity);
    const leader = masters.find((m) => holder.endsWith(`_${m.port}`));
    const standby = masters.find((m) => m !== leader);
    if (!leader || !standby) throw new Error(`lease holder "${holder}" is neither master (ports ${a.port}, ${b.port})`);

    // Everything talks to the standby, so stopping the leader leaves the cluster reachable.
    client = new KubeClient({ server: standby.url, ca: standby.caPem, token: standby.adminToken });
    nodes = await startHollowNodes({ server: standby.url, caPem: standby.caPem, token: standby.joinToken, count: 2, namePrefix: 'n', dataDir: hollowDir, leaseIntervalMs: 2000 });
    await client.create(apps('replicasets', 'default'), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'one', namespace: 'default' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'one' } }, template: { metadata: { labels: { app: 'one' } }, spec: { containers: [{ name: 'c', image: 'img:a' }] } } },
    } as ReplicaSet);
    const c = client;
    await waitFor('2 running pods', async () => (await listPods(c, 'default', 'app=one')).filter(isRunningReady).length === 2);
    expect((await c.get<Lease>(leaseRef)).spec?.holderIdentity).toBe(holder);

    leaderClosed = leader;
    await leader.close();
    await waitFor('the standby holds the lease', async () => (await c.get<Lease>(leaseRef)).spec?.holderIdentity?.endsWith(`_${standby.port}`), 15_000);
    await c.patch(apps('replicasets', 'default', 'one'), 'merge', { spec: { replicas: 3 } });
    await waitFor('3 running pods under the new leader', async () => (await listPods(c, 'default', 'app=one')).filter(isRunningReady).length === 3, 20_000);
    // Exactly 3: the two masters never both acted on the ReplicaSet.
    expect((await listPods(c, 'default', 'app=one')).length).toBe(3);
  }, 90_000);
});
