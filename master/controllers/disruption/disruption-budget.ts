import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1';
import { resolveIntOrPercent } from '../../../kube/int-or-percent';
import { isPodReady } from '../../../kube/pod-conditions';

/** How many pods a budget expects and needs healthy, from its pods and the scale of their controllers. */
export interface BudgetCounts {
  expectedPods: number;
  desiredHealthy: number;
  currentHealthy: number;
}

/** Ready and not being deleted: what a disruption budget counts as healthy. */
export function countsAsHealthy(pod: Pod): boolean {
  return isPodReady(pod) && !pod.metadata?.deletionTimestamp;
}

/**
 * Kubernetes' arithmetic: an integer minAvailable counts against the pods that exist; a
 * percentage, or maxUnavailable, against the replicas their controllers ask for (rounded up).
 */
export function budgetCounts(pdb: PodDisruptionBudget, pods: Pod[], controllerScale: number | undefined): BudgetCounts {
  const currentHealthy = pods.filter(countsAsHealthy).length;
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined) {
    const expected = controllerScale ?? pods.length;
    const unavailable = resolveIntOrPercent(spec.maxUnavailable, expected, true, '0');
    return { expectedPods: expected, desiredHealthy: Math.max(0, expected - unavailable), currentHealthy };
  }
  const min = spec.minAvailable ?? 1;
  if (typeof min === 'number' || /^\d+$/.test(min)) return { expectedPods: pods.length, desiredHealthy: Number(min), currentHealthy };
  const expected = controllerScale ?? pods.length;
  return { expectedPods: expected, desiredHealthy: resolveIntOrPercent(min, expected, true, '0'), currentHealthy };
}

/** The status a budget should report; disruptedPods (evictions not yet seen as deletions) are kept. */
export function budgetStatus(pdb: PodDisruptionBudget, counts: BudgetCounts, disrupted: Record<string, string>, now: string): PodDisruptionBudgetStatus {
  const allowed = Math.max(0, counts.currentHealthy - Object.keys(disrupted).length - counts.desiredHealthy);
  const previous = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
  const status = allowed > 0 ? 'True' : 'False';
  return {
    observedGeneration: pdb.metadata?.generation,
    expectedPods: counts.expectedPods,
    desiredHealthy: counts.desiredHealthy,
    currentHealthy: counts.currentHealthy,
    disruptionsAllowed: allowed,
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    conditions: [{
      type: 'DisruptionAllowed',
      status,
      reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods',
      message: '',
      observedGeneration: pdb.metadata?.generation,
      lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : now,
    }],
  };
}
