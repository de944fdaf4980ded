import type { Job, JobCondition } from 'kubernetes-types/batch/v1';

export type JobConditionType = 'Complete' | 'Failed' | 'Suspended' | 'FailureTarget' | 'SuccessCriteriaMet';

export function jobCondition(job: Job, type: JobConditionType): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

export function hasJobCondition(job: Job, type: JobConditionType): boolean {
  return jobCondition(job, type)?.status === 'True';
}

/** A Job is finished once Complete or Failed is True; nothing then changes but its TTL. */
export function isJobFinished(job: Job): boolean {
  return hasJobCondition(job, 'Complete') || hasJobCondition(job, 'Failed');
}

/**
 * The conditions with one set to status; its transition time moves only when the status does,
 * as upstream keeps it, so `kubectl describe` shows when a Job really finished.
 */
export function withCondition(conditions: JobCondition[], type: JobConditionType, status: 'True' | 'False', reason: string, message: string, now: string): JobCondition[] {
  const existing = conditions.find((c) => c.type === type);
  if (existing && existing.status === status && existing.reason === reason && existing.message === message) return conditions;
  const next: JobCondition = {
    type,
    status,
    reason,
    message,
    lastProbeTime: now,
    lastTransitionTime: existing && existing.status === status ? existing.lastTransitionTime : now,
  };
  return existing ? conditions.map((c) => (c.type === type ? next : c)) : [...conditions, next];
}
