import type { Node, Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { core } from '../../../kube/resource-path';
import { DISRUPTION_DEFAULTS, ZoneDisruption, zoneEvictionRate, zoneOf, zoneState } from '../../../master/controllers/node-lifecycle/zone-disruption';
import { createDeployment, listPods, startCluster, waitFor, type TestCluster } from './cluster';

function node(name: string, ready: 'True' | 'False' | 'Unknown' | undefined, zone?: string): Node {
  return {
    metadata: { name, labels: zone ? { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': zone } : {} },
    status: { conditions: ready ? [{ type: 'Ready', status: ready }] : [] },
  };
}

function nodes(zone: string | undefined, ready: number, notReady: number): Node[] {
  return [
    ...Array.from({ length: ready }, (_, i) => node(`${zone}-ok-${i}`, 'True', zone)),
    ...Array.from({ length: notReady }, (_, i) => node(`${zone}-down-${i}`, i % 2 ? 'False' : 'Unknown', zone)),
  ];
}

describe('zone disruption (Kubernetes node lifecycle controller semantics)', () => {
  it('names a zone by its region and zone labels, GA before beta', () => {
    expect(zoneOf(node('a', 'True'))).toBe('');
    expect(zoneOf(node('a', 'True', 'z1'))).toBe('r1/z1');
    expect(zoneOf({ metadata: { name: 'b', labels: { 'failure-domain.beta.kubernetes.io/zone': 'old', 'topology.kubernetes.io/zone': 'new' } } })).toBe('/new');
    expect(zoneOf({ metadata: { name: 'c', labels: { 'failure-domain.beta.kubernetes.io/zone': 'old' } } })).toBe('/old');
  });

  it('grades a zone: none Ready is full, more than two and 55 % not Ready is partial', () => {
    expect(zoneState(0, 1, 0.55)).toBe('FullDisruption');
    expect(zoneState(0, 0, 0.55)).toBe('Normal');
    expect(zoneState(1, 2, 0.55)).toBe('Normal');
    expect(zoneState(2, 3, 0.55)).toBe('PartialDisruption');
    expect(zoneState(3, 3, 0.55)).toBe('Normal');
    expect(zoneEvictionRate('Normal', 10, DISRUPTION_DEFAULTS)).toBe(0.1);
    expect(zoneEvictionRate('FullDisruption', 10, DISRUPTION_DEFAULTS)).toBe(0.1);
    expect(zoneEvictionRate('PartialDisruption', 50, DISRUPTION_DEFAULTS)).toBe(0);
    expect(zoneEvictionRate('PartialDisruption', 51, DISRUPTION_DEFAULTS)).toBe(0.01);
  });

  it('admits one NoExecute taint at once, then one per 1/rate seconds in a Normal zone', () => {
    const z = new ZoneDisruption(DISRUPTION_DEFAULTS);
    z.observe(nodes('z1', 8, 2), 0);
    expect(z.admit('r1/z1', 0)).toBe(true);
    expect(z.admit('r1/z1', 0)).toBe(false);
    expect(z.admit('r1/z1', 9_900)).toBe(false);
    expect(z.admit('r1/z1', 10_000)).toBe(true);
    // Idle time fills one token, not many: a burst after a quiet hour is still one node.
    expect(z.admit('r1/z1', 3_600_000)).toBe(true);
    expect(z.admit('r1/z1', 3_600_000)).toBe(false);
    expect(z.admit('r1/unknown', 0)).toBe(false);
  });

  it('stops a small zone in partial disruption and slows a large one; a dead zone beside a live one is evicted', () => {
    const z = new ZoneDisruption(DISRUPTION_DEFAULTS);
    const change = z.observe([...nodes('small', 2, 3), ...nodes('large', 40, 60), ...nodes('dead', 0, 4)], 0);
    expect(change.masterDisruption).toBe(false);
    expect(Object.fromEntries(change.zones.map((c) => [c.zone, c.to]))).toEqual({ 'r1/small': 'PartialDisruption', 'r1/large': 'PartialDisruption', 'r1/dead': 'FullDisruption' });
    expect(z.admit('r1/small', 0)).toBe(false);
    expect(z.admit('r1/small', 3_600_000)).toBe(false);
    expect(z.admit('r1/large', 0)).toBe(true);
    expect(z.admit('r1/large', 99_000)).toBe(false);
    expect(z.admit('r1/large', 100_000)).toBe(true);
    expect(z.admit('r1/dead', 0)).toBe(true);
    expect(z.admit('r1/dead', 10_000)).toBe(true);
  });

  it('enters master disruption when no zone has a Ready node, and leaves it when one has', () => {
    const z = new ZoneDisruption(DISRUPTION_DEFAULTS);
    expect(z.observe([...nodes('a', 3, 0), ...nodes('b', 3, 0)], 0)).toMatchObject({ masterDisruption: false, entered: false, recovered: false });
    const down = z.observe([...nodes('a', 0, 3), ...nodes('b', 0, 3)], 1_000);
    expect(down).toMatchObject({ masterDisruption: true, entered: true, recovered: false });
    expect(z.inMasterDisruption).toBe(true);
    expect(z.admit('r1/a', 60_000)).toBe(false);
    expect(z.observe([...nodes('a', 0, 3), ...nodes('b', 0, 3)], 61_000)).toMatchObject({ masterDisruption: true, entered: false });
    const back = z.observe([...nodes('a', 1, 2), ...nodes('b', 0, 3)], 62_000);
    expect(back).toMatchObject({ masterDisruption: false, entered: false, recovered: true });
    expect(z.admit('r1/b', 62_000)).toBe(true);
    // A node without a Ready condition counts as not Ready; a cluster of such nodes alone is disrupted.
    expect(new ZoneDisruption(DISRUPTION_DEFAULTS).observe([node('x', undefined)], 0).masterDisruption).toBe(true);
  });
});

describe('node lifecycle under disruption (hollow nodes)', () => {
  let c: TestCluster;
  const grace = 4_000;
  // Longer than the lease interval (1 s) and a monitor period: every node is seen silent before a toleration ends.
  const toleration = 2_000;
  beforeAll(async () => {
    c = await startCluster({
      nodes: 3,
      leaseIntervalMs: 1000,
      manager: { nodeMonitor: { gracePeriodMs: grace, evictionTimeoutMs: toleration, monitorPeriodMs: 200, disruption: { evictionRate: 0.5 } } },
    });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  const noExecute = (n: Node): string[] => (n.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute').map((t) => t.key);
  const ready = (n: Node): string | undefined => n.status?.conditions?.find((x) => x.type === 'Ready')?.status;
  const nodeList = async (): Promise<Node[]> => (await c.client.list<Node>(core('nodes'))).items;
  const webPods = async (): Promise<Pod[]> => listPods(c.client, 'default', 'app=web');

  it('evicts nothing while no node is Ready, nothing in a small zone mostly down, then taints one node per 1/rate seconds', async () => {
    await createDeployment(c.client, 'web', 3);
    const before = await waitFor('3 pods on the first nodes', async () => {
      const p = (await webPods()).filter((x) => x.status?.phase === 'Running');
      return p.length === 3 && p;
    });
    const uids = before.map((p) => p.metadata?.uid).sort();

    // Every node goes silent at once, as when the master loses its network.
    await Promise.all(c.hollow[0].nodes.map((n) => n.stop()));
    await waitFor('every node Unknown', async () => (await nodeList()).every((n) => ready(n) === 'Unknown'), grace + 10_000, 200);
    await new Promise((r) => setTimeout(r, toleration + 3_000));
    let now = await nodeList();
    expect(now.flatMap(noExecute)).toEqual([]);
    expect(now.every((n) => (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule'))).toBe(true);
    expect((await webPods()).filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.uid).sort()).toEqual(uids);

    // One node comes up: 3 of 4 not Ready in the one zone is a partial disruption of a small zone, which evicts nothing.
    await c.addNodes(1, 'fresh');
    await waitFor('the fresh node Ready', async () => (await nodeList()).some((n) => n.metadata?.name === 'fresh-0' && ready(n) === 'True'), 20_000, 200);
    await new Promise((r) => setTimeout(r, grace + toleration + 2_000));
    now = await nodeList();
    expect(now.flatMap(noExecute)).toEqual([]);
    expect((await webPods()).filter((p) => p.spec?.nodeName?.startsWith('node-') && !p.metadata?.deletionTimestamp).map((p) => p.metadata?.uid).sort()).toEqual(uids);

    // Three more: 3 of 7 not Ready is Normal, so the silent nodes are tainted at the zone's rate (one at once, then one per 2 s).
    await c.addNodes(3, 'more');
    const taintedAt = new Map<string, number>();
    await waitFor(
      'the three silent nodes tainted NoExecute',
      async () => {
        for (const n of await nodeList()) if (noExecute(n).includes('node.kubernetes.io/unreachable') && !taintedAt.has(n.metadata?.name ?? '')) taintedAt.set(n.metadata?.name ?? '', Date.now());
        return taintedAt.size === 3;
      },
      30_000,
      100,
    );
    expect([...taintedAt.keys()].sort()).toEqual(['node-0', 'node-1', 'node-2']);
    const times = [...taintedAt.values()].sort((a, b) => a - b);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(1_500);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(1_500);
    await waitFor('the deployment running on the live nodes', async () => (await webPods()).filter((p) => p.status?.phase === 'Running' && !p.spec?.nodeName?.startsWith('node-')).length === 3, 30_000, 200);
  }, 120_000);

  it('gives pods their whole toleration again when a NoExecute taint without timeAdded comes back', async () => {
    // kubectl taint sets no timeAdded: the controller times such a taint from when it first saw it, and must forget that when it goes.
    const [target] = (await nodeList()).filter((n) => ready(n) === 'True' && n.metadata?.name?.startsWith('more-'));
    const name = target.metadata?.name ?? '';
    const maintenance = { key: 'example.com/maintenance', value: 'yes', effect: 'NoExecute' };
    const setTaints = async (on: boolean): Promise<void> => {
      const n = await c.client.get<Node>(core('nodes', undefined, name));
      const others = (n.spec?.taints ?? []).filter((t) => t.key !== maintenance.key);
      await c.client.patch(core('nodes', undefined, name), 'merge', { metadata: { resourceVersion: n.metadata?.resourceVersion }, spec: { taints: on ? [...others, maintenance] : others.length ? others : null } });
    };
    const tolerationSeconds = 5;
    await c.client.create(core('pods', 'default'), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'patient', namespace: 'default' },
      spec: { nodeName: name, containers: [{ name: 'main', image: 'img:a' }], tolerations: [{ key: maintenance.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds }] },
    } as Pod);
    // Evicted: being deleted, or already gone (its node's agent stops it at once).
    const alive = async (): Promise<boolean> => {
      try {
        return !(await c.client.get<Pod>(core('pods', 'default', 'patient'))).metadata?.deletionTimestamp;
      } catch (err) {
        if (ApiError.isNotFound(err)) return false;
        throw err;
      }
    };
    await waitFor('the pod running', async () => (await c.client.get<Pod>(core('pods', 'default', 'patient'))).status?.phase === 'Running', 20_000, 100);

    await setTaints(true);
    await new Promise((r) => setTimeout(r, 2_000));
    await setTaints(false);
    await new Promise((r) => setTimeout(r, (tolerationSeconds + 1) * 1000));
    expect(await alive()).toBe(true);

    // Back more than the toleration after it was first put on: the pod still gets all of it.
    await setTaints(true);
    const taintedAt = Date.now();
    await new Promise((r) => setTimeout(r, (tolerationSeconds - 2) * 1000));
    expect(await alive()).toBe(true);
    await waitFor('the pod evicted once its toleration ran out', async () => !(await alive()), 10_000, 100);
    expect(Date.now() - taintedAt).toBeGreaterThanOrEqual((tolerationSeconds - 1) * 1000);
    await setTaints(false);
  }, 60_000);
});
