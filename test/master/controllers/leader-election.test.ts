import type { ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { apps } from '../../../kube/resource-path';
import type { RunningControllerManager } from '../../../master/controllers/controller-manager';
import { LeaderElector } from '../../../kube/leader-election';
import { isRunningReady, listPods, startCluster, waitFor, type TestCluster } from './cluster';

const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };
const leaseRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'lotse-controller-manager' };

describe('leader election', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ nodes: 1, manager: { leaderElection: true, leaderElectionTiming: timing } });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('runs one set of controllers between two managers; the standby takes over when the leader stops', async () => {
    const first = c.manager;
    await waitFor('a leader', async () => first.isLeader());
    const second: RunningControllerManager = await c.startManager({ leaderElection: true, leaderElectionTiming: timing });
    // The standby stays standby while the leader renews.
    await new Promise((r) => setTimeout(r, timing.leaseDurationMs * 1.5));
    expect([first.isLeader(), second.isLeader()]).toEqual([true, false]);
    const lease = await c.client.get<Lease>(leaseRef);
    expect(lease.spec?.holderIdentity).toBe('test-0');

    await c.client.create(apps('replicasets', 'default'), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'one', namespace: 'default' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'one' } }, template: { metadata: { labels: { app: 'one' } }, spec: { containers: [{ name: 'c', image: 'img:a' }] } } },
    } as ReplicaSet);
    await waitFor('2 pods', async () => (await listPods(c.client, 'default', 'app=one')).filter(isRunningReady).length === 2);

    await first.stop();
    await waitFor('the standby leads', async () => second.isLeader(), 10_000);
    expect((await c.client.get<Lease>(leaseRef)).spec?.holderIdentity).toBe('test-1');
    // The new leader's controllers work: scale up and see it happen.
    await c.client.patch(apps('replicasets', 'default', 'one'), 'merge', { spec: { replicas: 3 } });
    await waitFor('3 pods under the new leader', async () => (await listPods(c.client, 'default', 'app=one')).filter(isRunningReady).length === 3);
    // Exactly 3: two managers never both acted on the ReplicaSet.
    expect((await listPods(c.client, 'default', 'app=one')).length).toBe(3);
  });

  it('a standby waits out the lease of a leader that died without releasing it', async () => {
    const events: string[] = [];
    const elector = (id: string): LeaderElector =>
      new LeaderElector({
        client: c.client,
        identity: id,
        name: 'crash-test',
        ...timing,
        releaseOnStop: false,
        onStartedLeading: () => void events.push(`${id} leads`),
        onStoppedLeading: () => void events.push(`${id} stops`),
      });
    const a = elector('a');
    a.run();
    await waitFor('a leads', async () => a.isLeader());
    const b = elector('b');
    b.run();
    await a.stop();
    const diedAt = Date.now();
    await waitFor('b leads', async () => b.isLeader(), 10_000, 50);
    const waited = Date.now() - diedAt;
    await b.stop();
    expect(events).toEqual(['a leads', 'a stops', 'b leads', 'b stops']);
    // Not before the lease ran out (seen from b's clock), and not much later.
    expect(waited).toBeGreaterThanOrEqual(timing.leaseDurationMs - timing.retryPeriodMs * 2);
    expect(waited).toBeLessThan(timing.leaseDurationMs + 2000);
  });
});
