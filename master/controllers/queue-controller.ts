import type { ControllerContext, Controller } from './controller-context';
import { WorkQueue } from '../../kube/work-queue';

/** How a queue-driven loop runs: its workers, its retry delays, and how its failures are logged. */
export interface QueueLoop {
  /** Keys reconciled at once. */
  workers: number;
  /** Log message when a key fails, e.g. "daemonset sync failed". */
  failure: string;
  /** Log field that names the key, e.g. "daemonset". */
  keyField: string;
  /** Retry back-off of failed keys (WorkQueue defaults: 50 ms doubling to 30 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * The skeleton every informer-fed control loop shares, as upstream's controllers share
 * workqueue + processNextWorkItem: informer handlers (registered in the subclass constructor)
 * add keys, start() runs the workers over sync(key), stop() drains them. A failed key is
 * logged and comes back after the queue's back-off.
 */
export abstract class QueueController implements Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue;

  protected constructor(
    protected readonly ctx: ControllerContext,
    private readonly loop: QueueLoop,
  ) {
    this.queue = new WorkQueue(loop.baseDelayMs, loop.maxDelayMs);
  }

  start(): void {
    void this.queue.run(this.loop.workers, (key) => this.sync(key), (key, err) => this.ctx.log(this.loop.failure, { [this.loop.keyField]: key, error: err.message }));
  }

  stop(): Promise<void> {
    return this.queue.shutdown();
  }

  /** Brings the world in line with the object named by key; throwing retries it later. */
  protected abstract sync(key: string): Promise<void>;
}
