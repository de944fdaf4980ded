import type { Job } from 'kubernetes-types/batch/v1';
import { ApiError } from '../../../kube/api-error';
import { objectKey } from '../../../kube/object';
import { batch } from '../../../kube/resource-path';
import type { InformerLike } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { deleteObject } from '../delete-object';
import { isJobFinished, jobCondition } from '../job/job-conditions';
import { QueueController } from '../queue-controller';

/** When a finished Job may be deleted: ttlSecondsAfterFinished after it finished; undefined when never. */
export function jobExpiry(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || !isJobFinished(job)) return undefined;
  const finished = job.status?.completionTime ?? jobCondition(job, 'Complete')?.lastTransitionTime ?? jobCondition(job, 'Failed')?.lastTransitionTime;
  const at = Date.parse(finished ?? '');
  return Number.isNaN(at) ? undefined : at + ttl * 1000;
}

/**
 * Deletes finished Jobs whose ttlSecondsAfterFinished has passed, with their pods (foreground,
 * as upstream's ttl-after-finished controller), so batch work does not pile up in the store.
 */
export class TtlAfterFinishedController extends QueueController {
  readonly name = 'ttlafterfinished-controller';
  private readonly jobs: InformerLike<Job>;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 1, failure: 'ttl-after-finished sync failed', keyField: 'job' });
    this.jobs = ctx.informers.get<Job>(batch('jobs'));
    this.jobs.on((type, job) => {
      if (type !== 'DELETED' && jobExpiry(job) !== undefined) this.queue.add(objectKey(job));
    });
  }

  protected async sync(key: string): Promise<void> {
    const job = this.jobs.get(key);
    if (!job || job.metadata?.deletionTimestamp) return;
    const expiry = jobExpiry(job);
    if (expiry === undefined) return;
    const wait = expiry - Date.now();
    if (wait > 0) {
      this.queue.addAfter(key, wait + 50);
      return;
    }
    try {
      // The uid precondition spares a Job re-created under the same name meanwhile.
      await deleteObject(this.ctx.client, batch('jobs', job.metadata?.namespace, job.metadata?.name), { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata?.uid } });
    } catch (err) {
      if (!ApiError.isNotFound(err) && !ApiError.isConflict(err)) throw err;
    }
  }
}
