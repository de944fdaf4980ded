import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1';
import type { ObjectReference } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import { objectKey } from '../../../kube/object';
import { batch } from '../../../kube/resource-path';
import type { InformerLike, ObjectIndex } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { deleteObject } from '../delete-object';
import { isJobFinished, jobCondition } from '../job/job-conditions';
import { controllerRef, newControllerRef } from '../owner-references';
import { QueueController } from '../queue-controller';
import { jobNameFor, jobsOverHistory, planCronJob, scheduleOf } from './cronjob-plan';

const CRONJOB = { apiVersion: 'batch/v1', kind: 'CronJob' };
/** Upstream's annotation with the run's scheduled time, in the CronJob's time zone. */
const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Starts a Job for each run of a CronJob's schedule (upstream's cronjob controller v2): the
 * latest missed run within startingDeadlineSeconds, concurrencyPolicy Allow / Forbid / Replace,
 * suspend; keeps status.active, lastScheduleTime and lastSuccessfulTime, and deletes finished
 * Jobs beyond the history limits. Sleeps until the next run instead of polling.
 */
export class CronJobController extends QueueController {
  readonly name = 'cronjob-controller';
  private readonly cronJobs: InformerLike<CronJob>;
  private readonly jobIndex: ObjectIndex<Job>;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'cronjob sync failed', keyField: 'cronjob' });
    this.cronJobs = ctx.informers.get<CronJob>(batch('cronjobs'));
    this.jobIndex = ctx.informers.index<Job>(batch('jobs'));
    this.recorder = ctx.recorder(this.name);
    this.cronJobs.on((type, cj) => {
      if (type !== 'DELETED') this.queue.add(objectKey(cj));
    });
    ctx.informers.get<Job>(batch('jobs')).on((_type, job, old) => {
      for (const j of old ? [job, old] : [job]) {
        const ref = controllerRef(j);
        if (ref?.kind === 'CronJob') this.queue.add(`${j.metadata?.namespace ?? ''}/${ref.name}`);
      }
    });
  }

  protected async sync(key: string): Promise<void> {
    const cj = this.cronJobs.get(key);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const uid = cj.metadata?.uid ?? '';
    const jobs = this.jobIndex.ownedBy(uid).filter((j) => controllerRef(j)?.uid === uid);
    const status = this.observedStatus(cj, jobs);
    const now = new Date();
    let plan;
    try {
      plan = planCronJob({ ...cj, status }, jobs.filter((j) => !isJobFinished(j)), now);
    } catch (err) {
      // Validation refuses bad schedules; one stored before that (or a zone the runtime lacks) stays idle.
      this.recorder.record(this.ref(cj), 'Warning', 'InvalidSchedule', `invalid schedule "${cj.spec?.schedule}": ${(err as Error).message}`);
      await this.writeStatus(cj, status);
      return;
    }
    if (plan.tooManyMissed) this.recorder.record(this.ref(cj), 'Warning', 'TooManyMissedTimes', `too many missed start times: > ${100}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    if (plan.skipped) this.recorder.record(this.ref(cj), plan.skipped.reason === 'MissSchedule' ? 'Warning' : 'Normal', plan.skipped.reason, plan.skipped.message);
    for (const job of plan.replace) {
      await this.deleteJob(cj, job);
      status.active = (status.active ?? []).filter((r) => r.uid !== job.metadata?.uid);
    }
    if (plan.run) {
      const job = await this.createJob(cj, plan.run);
      if (job && !(status.active ?? []).some((r) => r.uid === job.metadata?.uid)) status.active = [...(status.active ?? []), jobRef(job)];
      status.lastScheduleTime = iso(plan.run);
    }
    for (const job of jobsOverHistory(cj, jobs)) await this.deleteJob(cj, job);
    await this.writeStatus(cj, status);
    this.queue.addAfter(key, plan.next.getTime() - Date.now() + 100);
  }

  /** status.active as the Jobs show it now, and the latest successful finish. */
  private observedStatus(cj: CronJob, jobs: Job[]): CronJobStatus {
    const status: CronJobStatus = { ...(cj.status ?? {}) };
    const byUid = new Map(jobs.map((j) => [j.metadata?.uid, j]));
    const active = (status.active ?? []).filter((r) => {
      const j = byUid.get(r.uid);
      return j !== undefined && !isJobFinished(j);
    });
    // Jobs made by hand from the template (`kubectl create job --from=cronjob/NAME`) count too.
    for (const j of jobs) if (!isJobFinished(j) && !active.some((r) => r.uid === j.metadata?.uid)) active.push(jobRef(j));
    status.active = active.length ? active : undefined;
    for (const j of jobs) {
      const done = jobCondition(j, 'Complete')?.status === 'True' ? j.status?.completionTime : undefined;
      if (done && (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = done;
    }
    if (!status.active) delete status.active;
    return status;
  }

  private async createJob(cj: CronJob, scheduled: Date): Promise<Job | undefined> {
    const template = cj.spec?.jobTemplate ?? {};
    const zone = scheduleOf(cj).timeZone;
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobNameFor(cj, scheduled),
        namespace: cj.metadata?.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: zonedTimestamp(scheduled, zone) },
        ownerReferences: [newControllerRef(cj, CRONJOB.apiVersion, CRONJOB.kind)],
      },
      spec: structuredClone(template.spec ?? { template: {} }),
    };
    try {
      const created = await this.ctx.client.create<Job>(batch('jobs', cj.metadata?.namespace), job);
      this.recorder.record(this.ref(cj), 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name}`);
      return created;
    } catch (err) {
      // Created by an earlier pass whose write of lastScheduleTime was lost: the run happened.
      if (ApiError.isAlreadyExists(err)) return this.ctx.client.get<Job>(batch('jobs', cj.metadata?.namespace, job.metadata?.name)).catch(() => undefined);
      this.recorder.record(this.ref(cj), 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
      throw err;
    }
  }

  private async deleteJob(cj: CronJob, job: Job): Promise<void> {
    try {
      await deleteObject(this.ctx.client, batch('jobs', job.metadata?.namespace, job.metadata?.name), { propagationPolicy: 'Background', preconditions: { uid: job.metadata?.uid } });
      this.recorder.record(this.ref(cj), 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name}`);
    } catch (err) {
      if (!ApiError.isNotFound(err) && !ApiError.isConflict(err)) throw err;
    }
  }

  private async writeStatus(cj: CronJob, status: CronJobStatus): Promise<void> {
    if (JSON.stringify(cj.status ?? {}) === JSON.stringify(status)) return;
    try {
      const body: CronJob = { ...cj, status };
      await this.ctx.client.update(batch('cronjobs', cj.metadata?.namespace, cj.metadata?.name, 'status'), body);
    } catch (err) {
      if (ApiError.isNotFound(err)) return;
      throw err;
    }
  }

  private ref(cj: CronJob): ObjectReference {
    return objectRef(cj, CRONJOB.kind, CRONJOB.apiVersion);
  }
}

function jobRef(job: Job): ObjectReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata?.name, namespace: job.metadata?.namespace, uid: job.metadata?.uid, resourceVersion: job.metadata?.resourceVersion };
}

/** RFC 3339 with the zone's offset ("2026-12-03T08:00:00+01:00"), as upstream writes the annotation. */
function zonedTimestamp(at: Date, zone: string | undefined): string {
  if (!zone) return iso(at);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at).map((p) => [p.type, p.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offset = Math.round((local - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offset < 0 ? '-' : '+';
  const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset === 0 ? 'Z' : `${sign}${hh}:${mm}`}`;
}
