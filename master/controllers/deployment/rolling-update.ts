import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1';
import { resolveIntOrPercent } from '../../../kube/int-or-percent';

/** Pure rollout arithmetic of the Deployment controller, after upstream's deployment/util. */

/** maxSurge (rounded up) and maxUnavailable (rounded down); both zero would deadlock, so unavailable becomes 1. */
export function surgeAndUnavailable(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  if (d.spec?.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: replicas };
  const ru = d.spec?.strategy?.rollingUpdate;
  const maxSurge = resolveIntOrPercent(ru?.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolveIntOrPercent(ru?.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

const specReplicas = (rs: ReplicaSet): number => rs.spec?.replicas ?? 0;
/**
 * Available pods of a ReplicaSet, never more than it is scaled to: right after a scale-down its
 * status still counts the pods being removed, and trusting that would let a second scale-down
 * take availability below the floor.
 */
const available = (rs: ReplicaSet): number => Math.min(rs.status?.availableReplicas ?? 0, specReplicas(rs));

/** How many replicas the new ReplicaSet should have now. */
export function newReplicaSetReplicas(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): number {
  const replicas = d.spec?.replicas ?? 1;
  const current = newRS ? specReplicas(newRS) : 0;
  if (d.spec?.strategy?.type === 'Recreate') return replicas;
  if (current >= replicas) return replicas;
  const { maxSurge } = surgeAndUnavailable(d);
  const total = all.reduce((s, rs) => s + specReplicas(rs), 0);
  const room = replicas + maxSurge - total;
  if (room <= 0) return current;
  return current + Math.min(room, replicas - current);
}

/**
 * New sizes for the old ReplicaSets: first drop their unavailable replicas, then scale down
 * available ones, never below replicas − maxUnavailable available pods overall.
 * Returns a map of ReplicaSet name → new replicas for those that change.
 */
export function scaleDownOldReplicaSets(d: Deployment, oldRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Map<string, number> {
  const result = new Map<string, number>();
  const oldCount = oldRSs.reduce((s, rs) => s + specReplicas(rs), 0);
  if (oldCount === 0) return result;
  const replicas = d.spec?.replicas ?? 1;
  const { maxUnavailable } = surgeAndUnavailable(d);
  const all = newRS ? [...oldRSs, newRS] : oldRSs;
  const allCount = all.reduce((s, rs) => s + specReplicas(rs), 0);
  const minAvailable = replicas - maxUnavailable;
  const newUnavailable = newRS ? specReplicas(newRS) - available(newRS) : 0;
  let budget = allCount - minAvailable - newUnavailable;
  if (budget <= 0) return result;
  const sizes = new Map(oldRSs.map((rs) => [rs.metadata?.name ?? '', specReplicas(rs)]));
  const byAge = [...oldRSs].sort((a, b) => Date.parse(a.metadata?.creationTimestamp ?? '') - Date.parse(b.metadata?.creationTimestamp ?? ''));
  // Unhealthy replicas first: removing them costs no availability.
  for (const rs of byAge) {
    if (budget <= 0) break;
    const name = rs.metadata?.name ?? '';
    const unhealthy = Math.max(0, specReplicas(rs) - available(rs));
    const cut = Math.min(unhealthy, budget);
    if (cut > 0) {
      sizes.set(name, (sizes.get(name) ?? 0) - cut);
      budget -= cut;
    }
  }
  // Then available ones, as far as availability allows.
  const availableNow = all.reduce((s, rs) => s + available(rs), 0);
  let canLose = Math.max(0, availableNow - minAvailable);
  for (const rs of byAge) {
    if (canLose <= 0) break;
    const name = rs.metadata?.name ?? '';
    const cut = Math.min(sizes.get(name) ?? 0, canLose);
    if (cut > 0) {
      sizes.set(name, (sizes.get(name) ?? 0) - cut);
      canLose -= cut;
    }
  }
  for (const rs of oldRSs) {
    const name = rs.metadata?.name ?? '';
    if (sizes.get(name) !== specReplicas(rs)) result.set(name, sizes.get(name) ?? 0);
  }
  return result;
}
