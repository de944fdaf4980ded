import { Store } from './store';

export interface CompactorOptions {
  /** How often to look at the store; default 60 s. */
  intervalMs?: number;
  /** Always keep at least this many of the latest revisions; default 10,000. */
  keepRevisions?: number;
  /** Always keep the history written in this window; default 5 minutes. */
  keepMs?: number;
  /** Reports a failed compaction (the next tick tries again). */
  onError?: (err: Error) => void;
  /** Injected clock for tests. */
  now?: () => number;
}

interface Sample {
  at: number;
  revision: number;
}

/**
 * Periodic automatic compaction. History is kept while it is younger than keepMs OR among the
 * latest keepRevisions revisions, whichever keeps more: a watcher that reconnects within keepMs
 * (the JavaScript client re-watches every 30 s) never gets 410 Gone, and a quiet cluster still
 * keeps a useful tail. Like Kubernetes, the age of a revision is known from samples taken at
 * each tick, so compaction lags by up to one interval.
 */
export class Compactor {
  private readonly intervalMs: number;
  private readonly keepRevisions: number;
  private readonly keepMs: number;
  private readonly now: () => number;
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private compactedTo = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly options: CompactorOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.keepRevisions = options.keepRevisions ?? 10_000;
    this.keepMs = options.keepMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  start(): this {
    if (this.timer) return this;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    // The compactor must never be what keeps a master process alive.
    this.timer.unref();
    return this;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One look at the store; returns the revision compacted to, or undefined when nothing was due. */
  async runOnce(): Promise<number | undefined> {
    const revision = await this.store.revision();
    const at = this.now();
    this.samples.push({ at, revision });
    const target = this.target(revision, at);
    if (target === undefined || target <= this.compactedTo) return undefined;
    await this.store.compact(target);
    this.compactedTo = target;
    return target;
  }

  /** The newest revision that is both old enough and far enough behind the head. */
  private target(head: number, at: number): number | undefined {
    const oldEnough = this.samples.filter((sample) => sample.at <= at - this.keepMs);
    if (oldEnough.length === 0) return undefined;
    // Samples older than the newest old-enough one are no longer needed.
    this.samples = this.samples.slice(oldEnough.length - 1);
    const byAge = oldEnough[oldEnough.length - 1].revision;
    const target = Math.min(byAge, head - this.keepRevisions);
    return target > 0 ? target : undefined;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.runOnce().then(
      () => undefined,
      (err: unknown) => this.options.onError?.(err instanceof Error ? err : new Error(String(err))),
    );
    await this.running;
    this.running = undefined;
  }
}
