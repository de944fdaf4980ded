import type { DaemonSet, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1';
import { replicaSetStatus, slowStartBatches } from '../../../master/controllers/replicaset/replicaset-controller';
import { podsToDelete } from '../../../master/controllers/replicaset/pod-ranking';
import { daemonPlacement, shouldRunOn } from '../../../master/controllers/daemonset/daemonset-controller';
import { conditionTaints, evictionTime } from '../../../master/controllers/node-lifecycle/node-lifecycle-controller';
import { desiredSlices, endpointSubsets, serviceEndpoints } from '../../../master/controllers/endpoints/endpoints-controller';
import { dependentAction } from '../../../master/controllers/garbage-collector/garbage-collector';
import { WorkQueue } from '../../../kube/work-queue';
import { Expectations } from '../../../master/controllers/expectations';

const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: string; labels?: Record<string, string>; ip?: string; created?: string } = {}): Pod => ({
  metadata: { name, namespace: 'default', uid: name, labels: o.labels ?? { app: 'web' }, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
  spec: { nodeName: o.node, containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: {
    phase: o.phase ?? 'Running',
    podIP: o.ip,
    conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: o.readySince ?? '2026-01-01T00:00:00Z' }],
  },
});

describe('ReplicaSet decisions', () => {
  it('creates in slow-start batches', () => {
    expect(slowStartBatches(10)).toEqual([1, 2, 4, 3]);
    expect(slowStartBatches(0)).toEqual([]);
  });

  it('deletes unscheduled, pending and not-ready pods first', () => {
    const pods = [pod('ready', { node: 'n', ready: true }), pod('pending', { node: 'n', phase: 'Pending' }), pod('unscheduled', { phase: 'Pending' }), pod('notready', { node: 'n', ready: false })];
    expect(podsToDelete(pods, 3).map((p) => p.metadata?.name)).toEqual(['unscheduled', 'pending', 'notready']);
  });

  it('counts ready and available (minReadySeconds) replicas', () => {
    const rs: ReplicaSet = { metadata: { generation: 3 }, spec: { minReadySeconds: 10, selector: {}, template: { metadata: { labels: { app: 'web' } } } } };
    const now = Date.parse('2026-01-01T00:00:30Z');
    const s = replicaSetStatus(rs, [pod('a', { ready: true, readySince: '2026-01-01T00:00:00Z' }), pod('b', { ready: true, readySince: '2026-01-01T00:00:25Z' }), pod('c', { phase: 'Failed' })], now);
    expect(s).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 1, fullyLabeledReplicas: 2, observedGeneration: 3 });
  });

  it('expectations hold back recounting until the watch shows the creations', () => {
    const e = new Expectations();
    e.expectCreations('ns/rs', ['a', 'b']);
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationObserved('ns/rs', 'a');
    e.creationObserved('ns/rs', 'b');
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expectDeletions('ns/rs', ['c']);
    expect(e.satisfied('ns/rs', Date.now() + 10 * 60_000)).toBe(true);
  });
});

describe('DaemonSet placement', () => {
  const ds: DaemonSet = { spec: { selector: {}, template: { spec: { nodeSelector: { role: 'worker' }, containers: [] } } } };
  const node = (labels: Record<string, string>, taints: Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never = []): Node => ({ metadata: { name: 'n', labels }, spec: { taints } });
  it('runs on matching nodes, tolerating not-ready/unreachable but not custom taints', () => {
    expect(shouldRunOn(ds, node({ role: 'worker' }))).toBe(true);
    expect(shouldRunOn(ds, node({ role: 'master' }))).toBe(false);
    expect(shouldRunOn(ds, node({ role: 'worker' }, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]))).toBe(true);
    expect(shouldRunOn(ds, node({ role: 'worker' }, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]))).toBe(false);
    // A running daemon stays on a node that gains a NoSchedule taint; a NoExecute one evicts it.
    expect(daemonPlacement(ds, node({ role: 'worker' }, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]))).toEqual({ shouldRun: false, shouldContinue: true });
    expect(daemonPlacement(ds, node({ role: 'worker' }, [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }]))).toEqual({ shouldRun: false, shouldContinue: false });
  });
});

describe('node lifecycle', () => {
  it('taints by Ready status', () => {
    expect(conditionTaints('True', 'now')).toEqual([]);
    expect(conditionTaints('Unknown', 'now').map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    expect(conditionTaints('False', 'now')[0].key).toBe('node.kubernetes.io/not-ready');
  });

  it('evicts after the default toleration, the pod toleration, or never', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const taints = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }];
    const seen = () => t0;
    expect(evictionTime(taints, [], 10_000, seen)).toBe(t0 + 10_000);
    expect(evictionTime(taints, [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }], 10_000, seen)).toBe(t0 + 60_000);
    expect(evictionTime(taints, [{ operator: 'Exists' }], 10_000, seen)).toBeUndefined();
    expect(evictionTime([{ key: 'custom', effect: 'NoExecute' }], [], 10_000, seen)).toBe(t0);
  });
});

describe('endpoints', () => {
  const svc: Service = { metadata: { name: 'web', namespace: 'default', uid: 'svc' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
  it('resolves named ports and splits ready from not-ready addresses', () => {
    const entries = serviceEndpoints(svc, [pod('a', { ip: '10.0.0.2', ready: true }), pod('b', { ip: '10.0.0.1', ready: false }), pod('c', { ready: true }), pod('d', { ip: '10.0.0.3', ready: true, labels: { app: 'db' } })]);
    expect(entries.map((e) => e.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    const subsets = endpointSubsets(entries);
    expect(subsets).toHaveLength(1);
    expect(subsets[0].addresses?.map((a) => a.ip)).toEqual(['10.0.0.2']);
    expect(subsets[0].notReadyAddresses?.map((a) => a.ip)).toEqual(['10.0.0.1']);
    expect(subsets[0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: undefined }]);
    const slices = desiredSlices(svc, entries);
    expect(slices).toHaveLength(1);
    expect(slices[0].metadata?.labels?.['kubernetes.io/service-name']).toBe('web');
    expect(slices[0].endpoints.map((e) => [e.addresses[0], e.conditions?.ready])).toEqual([['10.0.0.1', false], ['10.0.0.2', true]]);
  });
});

describe('garbage collector decisions', () => {
  const ref = (uid: string) => ({ apiVersion: 'v1', kind: 'X', name: uid, uid });
  it('deletes when every owner is gone, drops dangling references otherwise', () => {
    expect(dependentAction([{ ref: ref('a'), state: 'absent' }])).toEqual({ action: 'delete' });
    expect(dependentAction([{ ref: ref('a'), state: 'absent' }, { ref: ref('b'), state: 'present' }])).toEqual({ action: 'drop-refs', uids: ['a'] });
    expect(dependentAction([{ ref: ref('a'), state: 'unknown' }])).toEqual({ action: 'keep' });
  });
});

describe('work queue', () => {
  it('processes a key once however often it was added, and again if added while running', async () => {
    const q = new WorkQueue(1, 10);
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    q.add('a');
    q.add('a');
    const run = q.run(2, async (k) => {
      seen.push(k);
      if (seen.length === 1) {
        q.add('a');
        await gate;
      }
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['a']);
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['a', 'a']);
    q.shutdown();
    await run;
  });
});
