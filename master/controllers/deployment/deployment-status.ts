import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1';
import { surgeAndUnavailable } from './rolling-update';

const sum = (rss: ReplicaSet[], f: (rs: ReplicaSet) => number | undefined): number => rss.reduce((s, rs) => s + (f(rs) ?? 0), 0);

/** Counts of a Deployment's status from its ReplicaSets' statuses (conditions are added separately). */
export function deploymentCounts(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
  const availableReplicas = sum(all, (rs) => rs.status?.availableReplicas);
  return {
    observedGeneration: d.metadata?.generation,
    replicas: sum(all, (rs) => rs.status?.replicas),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum(all, (rs) => rs.status?.readyReplicas),
    availableReplicas,
    unavailableReplicas: Math.max(0, (d.spec?.replicas ?? 1) - availableReplicas),
    collisionCount: d.status?.collisionCount,
  };
}

/** Every pod is updated, available, and no old pod is left: what `kubectl rollout status` waits for. */
export function rolloutComplete(d: Deployment, s: DeploymentStatus): boolean {
  const replicas = d.spec?.replicas ?? 1;
  return s.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas;
}

function condition(type: string, status: string, reason: string, message: string, now: string, prev?: DeploymentCondition): DeploymentCondition {
  const keepTransition = prev && prev.status === status;
  return {
    type,
    status,
    reason,
    message,
    lastUpdateTime: now,
    lastTransitionTime: keepTransition ? (prev.lastTransitionTime ?? now) : now,
  };
}

export interface ConditionInputs {
  d: Deployment;
  status: DeploymentStatus;
  newRS: ReplicaSet | undefined;
  /** The new ReplicaSet was created in this sync. */
  createdNewRS: boolean;
  now: number;
}

/**
 * Available and Progressing, with upstream's reasons: NewReplicaSetCreated, ReplicaSetUpdated,
 * NewReplicaSetAvailable, ProgressDeadlineExceeded, DeploymentPaused. A condition whose
 * meaning did not change keeps its timestamps, so the progress deadline counts from the last progress.
 */
export function deploymentConditions({ d, status, newRS, createdNewRS, now }: ConditionInputs): DeploymentCondition[] {
  const nowIso = new Date(now).toISOString();
  const prev = (type: string): DeploymentCondition | undefined => d.status?.conditions?.find((c) => c.type === type);
  const { maxUnavailable } = surgeAndUnavailable(d);
  const replicas = d.spec?.replicas ?? 1;
  const prevAvail = prev('Available');
  const availOk = (status.availableReplicas ?? 0) >= replicas - maxUnavailable;
  const available =
    prevAvail && prevAvail.status === (availOk ? 'True' : 'False')
      ? prevAvail
      : availOk
        ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', nowIso, prevAvail)
        : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', nowIso, prevAvail);
  return [available, progressing(d, status, newRS, createdNewRS, now, prev('Progressing'))];
}

function progressing(d: Deployment, s: DeploymentStatus, newRS: ReplicaSet | undefined, created: boolean, now: number, prev?: DeploymentCondition): DeploymentCondition {
  const nowIso = new Date(now).toISOString();
  const rsName = newRS?.metadata?.name ?? '';
  const same = (reason: string): boolean => prev?.reason === reason;
  if (d.spec?.paused) {
    return same('DeploymentPaused') && prev ? prev : condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', nowIso, prev);
  }
  if (rolloutComplete(d, s)) {
    return same('NewReplicaSetAvailable') && prev ? prev : condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, nowIso, prev);
  }
  if (created) return condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`, nowIso, prev);
  const old = d.status ?? {};
  const progressed =
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    (s.replicas ?? 0) < (old.replicas ?? 0) ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0) ||
    !prev ||
    prev.reason === 'NewReplicaSetAvailable';
  if (progressed) return condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, nowIso, prev);
  if (prev.reason !== 'ProgressDeadlineExceeded' && deadlineExceeded(d, prev, now)) {
    return condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, nowIso, prev);
  }
  return prev;
}

function deadlineExceeded(d: Deployment, prev: DeploymentCondition, now: number): boolean {
  const deadline = d.spec?.progressDeadlineSeconds ?? 600;
  const since = Date.parse(prev.lastUpdateTime ?? '');
  return Number.isFinite(since) && since + deadline * 1000 < now;
}

/** Milliseconds until the progress deadline would pass, if a rollout is under way. */
export function msUntilDeadline(d: Deployment, conditions: DeploymentCondition[], now: number): number | undefined {
  const p = conditions.find((c) => c.type === 'Progressing');
  if (!p || p.reason === 'NewReplicaSetAvailable' || p.reason === 'ProgressDeadlineExceeded' || p.reason === 'DeploymentPaused') return undefined;
  const since = Date.parse(p.lastUpdateTime ?? '');
  if (!Number.isFinite(since)) return undefined;
  return Math.max(0, since + (d.spec?.progressDeadlineSeconds ?? 600) * 1000 - now) + 100;
}
