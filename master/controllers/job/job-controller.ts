import type { Job, JobCondition, JobStatus } from 'kubernetes-types/batch/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import { objectKey } from '../../../kube/object';
import { batch, core } from '../../../kube/resource-path';
import type { InformerLike, ObjectIndex } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { deleteObject } from '../delete-object';
import { Expectations } from '../expectations';
import { controllerRef, generateName, newControllerRef } from '../owner-references';
import { QueueController } from '../queue-controller';
import { podsToDelete } from '../replicaset/pod-ranking';
import { slowStartBatches } from '../replicaset/replicaset-controller';
import { hasJobCondition, isJobFinished, jobCondition, withCondition } from './job-conditions';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffRemainingMs, classifyPods, COMPLETION_INDEX, completedIndexes, missingIndexes, type JobPods } from './job-pods';

export interface JobControllerOptions {
  workers?: number;
  /** First pod-failure back-off (upstream 10 s); doubles per failure up to backoffMaxMs (6 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

const JOB = { apiVersion: 'batch/v1', kind: 'Job' };
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** How a sync ends a Job, when it does. */
interface Verdict {
  outcome: 'fail' | 'succeed';
  reason: string;
  message: string;
}

/**
 * Runs each Job's pods to completion as upstream's job controller: up to parallelism pods at a
 * time until `completions` succeeded (or, without completions, until one succeeded and the rest
 * finished), with exponential back-off after failures, and ends it Failed on backoffLimit,
 * activeDeadlineSeconds or a FailJob pod failure policy rule. Terminal conditions come in two
 * steps as in 1.32: FailureTarget / SuccessCriteriaMet first, Failed / Complete once no pod of
 * the Job is still running.
 */
export class JobController extends QueueController {
  readonly name = 'job-controller';
  private readonly expectations = new Expectations();
  private readonly jobs: InformerLike<Job>;
  private readonly podIndex: ObjectIndex<Pod>;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext, private readonly options: JobControllerOptions = {}) {
    super(ctx, { workers: options.workers ?? 4, failure: 'job sync failed', keyField: 'job' });
    this.jobs = ctx.informers.get<Job>(batch('jobs'));
    this.podIndex = ctx.informers.index<Pod>(core('pods'));
    this.recorder = ctx.recorder(this.name);
    this.jobs.on((type, job) => {
      if (type === 'DELETED') this.expectations.delete(objectKey(job));
      this.queue.add(objectKey(job));
    });
    ctx.informers.get<Pod>(core('pods')).on((type, pod, old) => this.onPod(type, pod, old));
  }

  private onPod(type: string, pod: Pod, old?: Pod): void {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'Job') return;
    const owner = `${pod.metadata?.namespace ?? ''}/${ref.name}`;
    if (type === 'ADDED') this.expectations.creationObserved(owner, pod.metadata?.name ?? '');
    if (type === 'DELETED' || (pod.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp)) this.expectations.deletionObserved(owner, pod.metadata?.name ?? '');
    this.queue.add(owner);
  }

  protected async sync(key: string): Promise<void> {
    const job = this.jobs.get(key);
    // A deleted Job's pods are the garbage collector's; a finished Job's only change is its TTL.
    if (!job || job.metadata?.deletionTimestamp || isJobFinished(job)) return;
    const uid = job.metadata?.uid;
    const pods = classifyPods(job, this.podIndex.ownedBy(uid ?? '').filter((p) => controllerRef(p)?.uid === uid));
    const now = Date.now();
    const spec = job.spec ?? { template: {} };
    const indexed = spec.completionMode === 'Indexed';
    const succeeded = indexed ? completedIndexes(pods.succeeded, spec.completions ?? 0).count : pods.succeeded.length;
    const failed = pods.failed.length + pods.restarts;
    let conditions: JobCondition[] = job.status?.conditions ?? [];
    let startTime = job.status?.startTime;
    let completionTime: string | undefined;
    const verdict = this.verdict(job, pods, succeeded, failed, now);
    if (verdict) {
      const interim = verdict.outcome === 'fail' ? 'FailureTarget' : 'SuccessCriteriaMet';
      conditions = withCondition(conditions, interim, 'True', verdict.reason, verdict.message, iso(now));
      await this.deletePods(job, pods.active);
      if (pods.active.length === 0 && pods.terminating.length === 0) {
        conditions = withCondition(conditions, verdict.outcome === 'fail' ? 'Failed' : 'Complete', 'True', verdict.reason, verdict.message, iso(now));
        if (verdict.outcome === 'succeed') {
          completionTime = iso(now);
          this.recorder.record(objectRef(job, JOB.kind, JOB.apiVersion), 'Normal', 'Completed', 'Job completed');
        } else this.recorder.record(objectRef(job, JOB.kind, JOB.apiVersion), 'Warning', verdict.reason, verdict.message);
      }
    } else if (spec.suspend) {
      await this.deletePods(job, pods.active);
      if (!hasJobCondition(job, 'Suspended')) this.recorder.record(objectRef(job, JOB.kind, JOB.apiVersion), 'Normal', 'Suspended', 'Job suspended');
      conditions = withCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', iso(now));
      // The active deadline counts running time: it starts again on resume.
      startTime = undefined;
    } else {
      if (hasJobCondition(job, 'Suspended')) {
        conditions = withCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', iso(now));
        this.recorder.record(objectRef(job, JOB.kind, JOB.apiVersion), 'Normal', 'Resumed', 'Job resumed');
      }
      startTime ??= iso(now);
      if (this.expectations.satisfied(key)) await this.managePods(job, pods, succeeded, now);
      const deadline = spec.activeDeadlineSeconds;
      if (deadline !== undefined) this.queue.addAfter(key, Date.parse(startTime) + deadline * 1000 - now + 50);
    }
    await this.writeStatus(job, {
      ...(startTime ? { startTime } : {}),
      ...(completionTime ? { completionTime } : {}),
      ...(pods.active.length ? { active: pods.active.length } : {}),
      ...(succeeded ? { succeeded } : {}),
      ...(failed ? { failed } : {}),
      ready: pods.ready,
      terminating: pods.terminating.length,
      ...(indexed ? { completedIndexes: completedIndexes(pods.succeeded, spec.completions ?? 0).text } : {}),
      uncountedTerminatedPods: {},
      ...(conditions.length ? { conditions } : {}),
    });
  }

  /** Whether the Job is done, and how; a decision once taken (the interim condition) stands. */
  private verdict(job: Job, pods: JobPods, succeeded: number, failed: number, now: number): Verdict | undefined {
    const target = jobCondition(job, 'FailureTarget');
    if (target?.status === 'True') return { outcome: 'fail', reason: target.reason ?? '', message: target.message ?? '' };
    const met = jobCondition(job, 'SuccessCriteriaMet');
    if (met?.status === 'True') return { outcome: 'succeed', reason: met.reason ?? '', message: met.message ?? '' };
    const spec = job.spec;
    if (pods.failJobMessage) return { outcome: 'fail', reason: 'PodFailurePolicy', message: pods.failJobMessage };
    if (failed > (spec?.backoffLimit ?? 6)) return { outcome: 'fail', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    const start = Date.parse(job.status?.startTime ?? '');
    if (spec?.activeDeadlineSeconds !== undefined && !spec.suspend && start && now - start >= spec.activeDeadlineSeconds * 1000) {
      return { outcome: 'fail', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    }
    const completions = spec?.completions;
    const done = completions !== undefined && completions !== null ? succeeded >= completions : succeeded > 0 && pods.active.length === 0;
    return done ? { outcome: 'succeed', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' } : undefined;
  }

  /** Creates or deletes pods so that as many run as parallelism and the remaining completions allow. */
  private async managePods(job: Job, pods: JobPods, succeeded: number, now: number): Promise<void> {
    const spec = job.spec ?? { template: {} };
    const parallelism = spec.parallelism ?? 1;
    const completions = spec.completions ?? undefined;
    const indexes = spec.completionMode === 'Indexed' ? missingIndexes(completions ?? 0, pods) : undefined;
    const want = indexes
      ? Math.min(parallelism, pods.active.length + indexes.length)
      : completions !== undefined
        ? Math.min(parallelism, completions - succeeded)
        : succeeded > 0
          ? 0
          : parallelism;
    // With podReplacementPolicy Failed a replacement waits until the pod it replaces is gone.
    const occupied = pods.active.length + (spec.podReplacementPolicy === 'Failed' ? pods.terminating.length : 0);
    if (pods.active.length > want) {
      await this.deletePods(job, podsToDelete(pods.active, pods.active.length - want));
      return;
    }
    if (occupied >= want) return;
    const wait = backoffRemainingMs(pods, now, this.options.backoffBaseMs ?? BACKOFF_BASE_MS, this.options.backoffMaxMs ?? BACKOFF_MAX_MS);
    if (wait > 0) {
      this.queue.addAfter(objectKey(job), wait + 50);
      return;
    }
    const count = want - occupied;
    await this.createPods(job, indexes ? indexes.slice(0, count) : Array.from({ length: count }, () => undefined));
  }

  private async createPods(job: Job, indexes: (number | undefined)[]): Promise<void> {
    const key = objectKey(job);
    let next = 0;
    for (const size of slowStartBatches(indexes.length)) {
      const pods = indexes.slice(next, next + size).map((i) => this.newPod(job, i));
      next += size;
      this.expectations.expectCreations(key, pods.map((p) => p.metadata?.name ?? ''));
      const results = await Promise.allSettled(pods.map((p) => this.ctx.client.create<Pod>(core('pods', job.metadata?.namespace), p)));
      for (const r of results) {
        if (r.status === 'fulfilled') this.recorder.record(objectRef(job, JOB.kind, JOB.apiVersion), 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata?.name}`);
      }
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ pod: pods[i], err: r.reason as Error }] : []));
      if (failed.length > 0) {
        for (const f of failed) this.expectations.creationObserved(key, f.pod.metadata?.name ?? '');
        const msg = failed[0].err.message;
        this.recorder.record(objectRef(job, JOB.kind, JOB.apiVersion), 'Warning', 'FailedCreate', `Error creating: ${msg}`);
        throw new Error(`creating pods for Job ${key}: ${msg}`);
      }
    }
  }

  /** A pod from the Job's template; an Indexed Job's pod carries its index in name, label, env and hostname. */
  private newPod(job: Job, index: number | undefined): Pod {
    const template = job.spec?.template ?? {};
    const base = job.metadata?.name ?? 'job';
    const labels = { ...(template.metadata?.labels ?? {}) };
    const annotations = { ...(template.metadata?.annotations ?? {}) };
    const spec = structuredClone(template.spec ?? { containers: [] });
    if (index !== undefined) {
      labels[COMPLETION_INDEX] = String(index);
      annotations[COMPLETION_INDEX] = String(index);
      spec.hostname ??= `${base}-${index}`.slice(0, 63);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) c.env = [...(c.env ?? []), { name: 'JOB_COMPLETION_INDEX', value: String(index) }];
    }
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: generateName(index === undefined ? base : `${base.slice(0, 50)}-${index}`),
        namespace: job.metadata?.namespace,
        labels,
        annotations: Object.keys(annotations).length ? annotations : undefined,
        ownerReferences: [newControllerRef(job, JOB.apiVersion, JOB.kind)],
      },
      spec,
    };
  }

  private async deletePods(job: Job, pods: Pod[]): Promise<void> {
    if (pods.length === 0) return;
    const key = objectKey(job);
    this.expectations.expectDeletions(key, pods.map((p) => p.metadata?.name ?? ''));
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await deleteObject(this.ctx.client, core('pods', pod.metadata?.namespace, pod.metadata?.name));
          this.recorder.record(objectRef(job, JOB.kind, JOB.apiVersion), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, pod.metadata?.name ?? '');
          if (!ApiError.isNotFound(err)) throw err;
        }
      }),
    );
  }

  private async writeStatus(job: Job, status: JobStatus): Promise<void> {
    if (JSON.stringify(job.status ?? {}) === JSON.stringify(status)) return;
    try {
      // A full replace, so fields that went away (startTime on suspend) go away on the server too.
      const body: Job = { ...job, status };
      await this.ctx.client.update(batch('jobs', job.metadata?.namespace, job.metadata?.name, 'status'), body);
    } catch (err) {
      // A stale copy: the watch brings the newer one and the sync runs again.
      if (ApiError.isNotFound(err) || ApiError.isConflict(err)) return;
      throw err;
    }
  }
}
