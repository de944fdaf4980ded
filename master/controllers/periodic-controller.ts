import type { ControllerContext, Controller } from './controller-context';

/** How a timer-driven loop runs. */
export interface PeriodicLoop {
  periodMs: number;
  /** Log message when a pass fails, e.g. "node monitor failed". */
  failure: string;
}

/**
 * The skeleton of loops that look at everything on a timer rather than at keys from a queue
 * (node monitor, event TTL): one pass at a time, a late pass is skipped rather than stacked,
 * and stop() waits for the pass under way.
 */
export abstract class PeriodicController implements Controller {
  abstract readonly name: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  protected constructor(
    protected readonly ctx: ControllerContext,
    private readonly loop: PeriodicLoop,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .catch((err: Error) => this.ctx.log(this.loop.failure, { error: err.message }))
        .finally(() => (this.running = undefined));
    }, this.loop.periodMs);
    // The master's server keeps the process alive; a controller timer alone must not.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass; throwing logs the failure and leaves the next pass to try again. */
  protected abstract tick(): Promise<void>;
}
