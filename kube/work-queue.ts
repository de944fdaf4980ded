/**
 * A de-duplicating queue of keys as client-go's workqueue: a key added many times is processed
 * once, never by two workers at the same time, and again if it was added while being processed.
 * Failed keys come back after an exponential back-off.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private shutDown = false;
  /** The workers `run` started, so that shutdown can wait for them. */
  private workers: Promise<void> = Promise.resolve();

  constructor(
    private readonly baseDelayMs = 50,
    private readonly maxDelayMs = 30_000,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shutDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.waiters.shift()?.();
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shutDown) return;
    if (ms <= 0) return this.add(key);
    const existing = this.timers.get(key);
    if (existing) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  /** Adds the key back after 50 ms, 100 ms, ... up to 30 s for repeated failures. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Runs `workers` loops calling handler for each key until shutdown; errors re-queue with back-off. */
  run(workers: number, handler: (key: string) => Promise<void>, onError?: (key: string, err: Error) => void): Promise<void> {
    const loop = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
          this.forget(key);
        } catch (err) {
          onError?.(key, err as Error);
          this.done(key);
          this.addRateLimited(key);
          continue;
        }
        this.done(key);
      }
    };
    const started = Promise.all(Array.from({ length: workers }, loop)).then(() => undefined);
    this.workers = Promise.all([this.workers, started]).then(() => undefined);
    return started;
  }

  /** Stops handing out keys; resolves once every worker has finished the key it holds. */
  shutdown(): Promise<void> {
    this.shutDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w();
    return this.workers;
  }

  private async get(): Promise<string | undefined> {
    while (this.queue.length === 0) {
      if (this.shutDown) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.shutDown) return undefined;
    const key = this.queue.shift() as string;
    this.queued.delete(key);
    this.processing.add(key);
    return key;
  }

  private done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }
}
