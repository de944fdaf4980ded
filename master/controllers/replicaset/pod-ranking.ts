import type { Pod } from 'kubernetes-types/core/v1';
import { isPodReady, podCondition } from '../../../kube/pod-conditions';

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Orders pods so the ones cheapest to lose come first, as upstream's ActivePods ranking:
 * unscheduled before scheduled, pending before running, not ready before ready, ready for a
 * shorter time before longer, more restarts before fewer, newer before older.
 */
export function compareForDeletion(a: Pod, b: Pod): number {
  const assigned = (p: Pod): number => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const phase = (p: Pod): number => phaseRank[p.status?.phase ?? 'Pending'] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: Pod): number => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  if (isPodReady(a) && isPodReady(b)) {
    const since = (p: Pod): number => Date.parse(podCondition(p, 'Ready')?.lastTransitionTime ?? '') || 0;
    if (since(a) !== since(b)) return since(b) - since(a);
  }
  const restarts = (p: Pod): number => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const created = (p: Pod): number => Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
  return created(b) - created(a);
}

export function podsToDelete(pods: Pod[], count: number): Pod[] {
  return [...pods].sort(compareForDeletion).slice(0, Math.max(0, count));
}
