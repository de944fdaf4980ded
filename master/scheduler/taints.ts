import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1';

/** Taint/toleration matching as in k8s.io/api/core/v1 helpers, shared by scheduler and controllers. */

export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  // An empty key with operator Exists tolerates every taint.
  if (!tol.key && tol.operator !== 'Exists') return false;
  if (tol.operator === 'Exists') return true;
  return (tol.value ?? '') === (taint.value ?? '');
}

export function isTaintTolerated(taint: Taint, tolerations: Toleration[] | undefined): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/**
 * The node's taints as the scheduler sees them: its spec taints, plus the taints Kubernetes'
 * node lifecycle controller would have put on a node that is not Ready or cordoned, so a pod
 * is kept off such nodes even before that controller has run (and can tolerate them, as DaemonSets do).
 */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const add = (key: string): void => {
    if (!taints.some((t) => t.key === key && t.effect === 'NoSchedule')) taints.push({ key, effect: 'NoSchedule' });
  };
  if (ready === 'False') add('node.kubernetes.io/not-ready');
  else if (ready !== 'True') add('node.kubernetes.io/unreachable');
  if (node.spec?.unschedulable) add('node.kubernetes.io/unschedulable');
  return taints;
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate (PreferNoSchedule only scores). */
export function firstUntoleratedTaint(taints: Taint[], pod: Pod): Taint | undefined {
  return taints.find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !isTaintTolerated(t, pod.spec?.tolerations));
}

export function formatTaint(t: Taint): string {
  return `{${t.key}: ${t.value ?? ''}}`;
}
