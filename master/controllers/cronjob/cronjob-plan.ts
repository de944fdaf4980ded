import type { CronJob, Job } from 'kubernetes-types/batch/v1';
import { missedRuns, nextRun, parseCronSchedule, type CronSchedule } from '../../../kube/cron-schedule';
import { hasJobCondition, isJobFinished } from '../job/job-conditions';

/** Upstream gives up listing missed start times beyond 100 and says so in an event. */
export const MAX_MISSED = 100;

/** What one pass over a CronJob should do at time now. */
export interface CronJobPlan {
  /** The schedule time to start a Job for, if one is due. */
  run?: Date;
  /** Running Jobs to delete first (concurrencyPolicy Replace). */
  replace: Job[];
  /** Why a due run is not started (Forbid with a Job still running, or missed its deadline). */
  skipped?: { reason: 'JobAlreadyActive' | 'MissSchedule'; message: string };
  /** More than MAX_MISSED start times were missed (clock skew, long downtime). */
  tooManyMissed: boolean;
  /** When to look again: the next schedule time after now. */
  next: Date;
}

export function scheduleOf(cj: CronJob): CronSchedule {
  return parseCronSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone ?? undefined);
}

/**
 * Upstream's decision for a CronJob: the latest start time missed since the last run (or the
 * CronJob's creation), no older than startingDeadlineSeconds; then concurrencyPolicy decides
 * whether it starts beside, instead of, or not at all while an earlier Job is still active.
 */
export function planCronJob(cj: CronJob, active: Job[], now: Date): CronJobPlan {
  const schedule = scheduleOf(cj);
  const spec = cj.spec;
  const next = nextRun(schedule, now);
  const plan: CronJobPlan = { replace: [], tooManyMissed: false, next };
  if (spec?.suspend) return plan;
  let since = new Date(cj.status?.lastScheduleTime ?? cj.metadata?.creationTimestamp ?? now.toISOString());
  const deadline = spec?.startingDeadlineSeconds;
  if (deadline !== undefined && deadline !== null) {
    const earliest = new Date(now.getTime() - deadline * 1000);
    if (earliest > since) since = earliest;
  }
  const missed = missedRuns(schedule, since, now, MAX_MISSED);
  plan.tooManyMissed = missed.count > MAX_MISSED;
  if (!missed.latest) return plan;
  const due = missed.latest;
  if (deadline !== undefined && deadline !== null && due.getTime() + deadline * 1000 < now.getTime()) {
    plan.skipped = { reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${due.toISOString()}` };
    return plan;
  }
  const running = active.filter((j) => !isJobFinished(j));
  if (running.length > 0 && spec?.concurrencyPolicy === 'Forbid') {
    plan.skipped = { reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' };
    return plan;
  }
  if (spec?.concurrencyPolicy === 'Replace') plan.replace = running;
  plan.run = due;
  return plan;
}

/** Upstream's Job name for a run: the CronJob's name and the scheduled time in minutes since the epoch. */
export function jobNameFor(cj: CronJob, scheduled: Date): string {
  return `${cj.metadata?.name ?? ''}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

/** Finished Jobs beyond the history limits, oldest first (by start, as upstream sorts them). */
export function jobsOverHistory(cj: CronJob, jobs: Job[]): Job[] {
  const started = (j: Job): number => Date.parse(j.status?.startTime ?? j.metadata?.creationTimestamp ?? '') || 0;
  const over = (list: Job[], limit: number | undefined | null): Job[] => {
    if (limit === undefined || limit === null) return [];
    const sorted = [...list].sort((a, b) => started(a) - started(b));
    return sorted.slice(0, Math.max(0, sorted.length - limit));
  };
  const succeeded = jobs.filter((j) => hasJobCondition(j, 'Complete'));
  const failed = jobs.filter((j) => hasJobCondition(j, 'Failed'));
  return [...over(succeeded, cj.spec?.successfulJobsHistoryLimit), ...over(failed, cj.spec?.failedJobsHistoryLimit)];
}
