import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import { resolveIntOrPercent } from '../../../kube/int-or-percent';
import { newReplicaSetReplicas, scaleDownOldReplicaSets, surgeAndUnavailable } from '../../../master/controllers/deployment/rolling-update';
import { deploymentConditions, deploymentCounts } from '../../../master/controllers/deployment/deployment-status';
import { podTemplateHash, templatesEqual } from '../../../master/controllers/pod-template-hash';

const deployment = (replicas: number, surge?: number | string, unavailable?: number | string): Deployment => ({
  metadata: { name: 'web', namespace: 'default', generation: 2 },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'b' }] } },
  },
});

const rs = (name: string, replicas: number, available: number, created = '2026-01-01T00:00:00Z'): ReplicaSet => ({
  metadata: { name, creationTimestamp: created },
  spec: { replicas, selector: {} },
  status: { replicas, availableReplicas: available, readyReplicas: available },
});

describe('rolling update arithmetic', () => {
  it('resolves 25% like upstream: surge rounds up, unavailable down', () => {
    expect(surgeAndUnavailable(deployment(10))).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(surgeAndUnavailable(deployment(3))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(surgeAndUnavailable(deployment(3, 0, 0))).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(resolveIntOrPercent('50%', 5, true, '0')).toBe(3);
    expect(() => resolveIntOrPercent('half', 5, true, '0')).toThrow(/percentage/);
  });

  it('scales the new ReplicaSet up within maxSurge', () => {
    const d = deployment(4, 1, 1);
    const old = rs('old', 4, 4);
    expect(newReplicaSetReplicas(d, [old], undefined)).toBe(1);
    const fresh = rs('new', 1, 0);
    expect(newReplicaSetReplicas(d, [old, fresh], fresh)).toBe(1);
    expect(newReplicaSetReplicas(d, [rs('old', 3, 3), fresh], fresh)).toBe(2);
  });

  it('never scales old ReplicaSets below replicas - maxUnavailable available pods', () => {
    const d = deployment(4, 1, 1);
    // 4 old available + 1 new not yet available: one old pod may go.
    expect(scaleDownOldReplicaSets(d, [rs('old', 4, 4)], rs('new', 1, 0))).toEqual(new Map([['old', 3]]));
    // Only 3 available already: nothing may go.
    expect(scaleDownOldReplicaSets(d, [rs('old', 3, 3)], rs('new', 2, 0))).toEqual(new Map());
    // Just scaled down to 2, its status still says 3 available: only 2 may count.
    expect(scaleDownOldReplicaSets(d, [{ ...rs('old', 2, 3) }], rs('new', 2, 2))).toEqual(new Map([['old', 1]]));
    // Unavailable old pods go first, without costing availability.
    expect(scaleDownOldReplicaSets(d, [rs('old', 4, 2)], rs('new', 1, 1))).toEqual(new Map([['old', 2]]));
  });

  it('hashes templates stably and compares them without the hash label', () => {
    const t = deployment(1).spec?.template;
    const h = podTemplateHash(t);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(podTemplateHash(structuredClone(t))).toBe(h);
    expect(podTemplateHash(t, 1)).not.toBe(h);
    const withHash = structuredClone(t) ?? {};
    withHash.metadata = { labels: { app: 'web', 'pod-template-hash': h }, annotations: {} };
    expect(templatesEqual(t, withHash)).toBe(true);
    const other = structuredClone(t) ?? {};
    (other.spec?.containers ?? [])[0].image = 'a';
    expect(templatesEqual(t, other)).toBe(false);
  });

  it('reports Available and Progressing with upstream reasons', () => {
    const d = deployment(2, 1, 0);
    const newRS = rs('web-1', 2, 2);
    const status = deploymentCounts(d, [newRS], newRS);
    expect(status).toMatchObject({ replicas: 2, updatedReplicas: 2, availableReplicas: 2, unavailableReplicas: 0, observedGeneration: 2 });
    const conds = deploymentConditions({ d, status, newRS, createdNewRS: false, now: Date.now() });
    expect(conds.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
    const stuck: Deployment = { ...d, spec: { ...d.spec, progressDeadlineSeconds: 1 } as Deployment['spec'], status: { replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: new Date(Date.now() - 5000).toISOString() }] } };
    const s2 = deploymentCounts(stuck, [rs('old', 1, 1), rs('web-1', 1, 0)], rs('web-1', 1, 0));
    const c2 = deploymentConditions({ d: stuck, status: s2, newRS: rs('web-1', 1, 0), createdNewRS: false, now: Date.now() });
    expect(c2[1]).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  });
});
