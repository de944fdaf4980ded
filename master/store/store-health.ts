import type { Store } from './store';

export interface HealthReport {
  ready: boolean;
  /** Why not ready, or how long ago the last probe succeeded. */
  message: string;
}

/**
 * What the master knows about its store, for /readyz: a probe runs in the background every
 * interval with its own deadline, and readiness is answered from its last outcome, so /readyz
 * never waits on a stalled store. A probe still running past the deadline counts as a failure.
 */
export class StoreHealth {
  private lastOk = Date.now();
  private lastError: string | undefined;
  private running: Promise<void> | undefined;
  private runningSince = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly options: { intervalMs: number; deadlineMs: number } = { intervalMs: 1000, deadlineMs: 2000 },
  ) {}

  start(): this {
    this.timer = setInterval(() => this.check(), this.options.intervalMs);
    this.timer.unref();
    this.check();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  report(): HealthReport {
    const now = Date.now();
    if (this.running && now - this.runningSince > this.options.deadlineMs) {
      return { ready: false, message: `the ${this.store.kind} store has not answered a probe for ${now - this.runningSince} ms` };
    }
    if (this.lastError) return { ready: false, message: `the ${this.store.kind} store failed its probe: ${this.lastError}` };
    return { ready: true, message: `ok (store probed ${now - this.lastOk} ms ago)` };
  }

  private check(): void {
    if (this.running) return; // the previous probe is still out: report() judges it by its age
    this.runningSince = Date.now();
    this.running = this.store.probe().then(
      () => {
        this.lastOk = Date.now();
        this.lastError = undefined;
      },
      (err: unknown) => {
        this.lastError = err instanceof Error ? err.message : String(err);
      },
    ).finally(() => (this.running = undefined));
  }
}
