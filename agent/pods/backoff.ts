/**
 * Per-key exponential back-off as the kubelet keeps it for restarts and image pulls: the first
 * retry waits `base`, each further one doubles up to `max`, and a key that stayed quiet for
 * `resetAfter` starts again from `base`.
 */
export class Backoff {
  private readonly entries = new Map<string, { delayMs: number; until: number; lastFailure: number }>();

  constructor(
    readonly baseMs = 10_000,
    readonly maxMs = 300_000,
    readonly resetAfterMs = 600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a failure and returns the delay before the next attempt may run. */
  next(key: string): number {
    const t = this.now();
    const prev = this.entries.get(key);
    const delayMs = !prev || t - prev.lastFailure > this.resetAfterMs ? this.baseMs : Math.min(prev.delayMs * 2, this.maxMs);
    this.entries.set(key, { delayMs, until: t + delayMs, lastFailure: t });
    return delayMs;
  }

  /** Milliseconds left to wait for key (0 when it may run now). */
  remaining(key: string): number {
    const e = this.entries.get(key);
    return e ? Math.max(0, e.until - this.now()) : 0;
  }

  /** Delay that the last failure chose, for messages ("back-off 20s restarting ..."). */
  current(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every key starting with prefix (a deleted pod's containers). */
  forget(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
