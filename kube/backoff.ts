/**
 * How long a client waits before trying the master again: exponential, capped, and jittered, as
 * apimachinery's ExponentialBackoffManager (which client-go's reflectors use).
 *
 * The jitter is the point. Thousands of nodes lose their master at the same instant (it restarts,
 * it stalls, its machine goes); without jitter every one of them retries at the same instants
 * after it (0.5 s, 1 s, 2 s, … later), so the master comes back to a wall of requests in the same
 * few milliseconds, each a TLS handshake and a list, at the moment it is least able to answer.
 * With a jitter of 1.0 each wait is drawn from [d, 2d), so the retries of step n are spread over d.
 */
export interface BackoffOptions {
  /** The first wait before jitter. */
  initialMs: number;
  /** No wait before jitter grows past this. */
  maxMs: number;
  /** Each wait before jitter is the last times this (default 2). */
  factor?: number;
  /** Each wait is d · (1 + jitter · random), random in [0, 1) (default 1.0: [d, 2d)). */
  jitter?: number;
  /**
   * A back-off not stepped for this long starts again from initialMs (default: never by time;
   * reset() only). client-go's reflectors use 2 minutes, so a server that fails every few
   * seconds keeps its clients backing off instead of resetting them on every short success.
   */
  resetAfterMs?: number;
  /** Random in [0, 1) (tests fix it). */
  random?: () => number;
  /** Milliseconds, monotonic (tests fix it). */
  now?: () => number;
}

export class Backoff {
  private stepMs: number;
  private lastStepAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: BackoffOptions) {
    if (!(o.initialMs > 0) || !(o.maxMs >= o.initialMs)) throw new Error(`back-off needs 0 < initialMs <= maxMs, got ${o.initialMs} and ${o.maxMs}`);
    this.stepMs = o.initialMs;
  }

  /** The wait before the next try; each call is one more failure in a row. */
  next(): number {
    const now = (this.o.now ?? performance.now.bind(performance))();
    if (this.o.resetAfterMs !== undefined && now - this.lastStepAt > this.o.resetAfterMs) this.stepMs = this.o.initialMs;
    this.lastStepAt = now;
    const base = this.stepMs;
    this.stepMs = Math.min(base * (this.o.factor ?? 2), this.o.maxMs);
    return Math.round(base * (1 + (this.o.jitter ?? 1) * (this.o.random ?? Math.random)()));
  }

  /** The next wait starts again from initialMs (a success that says the server is well). */
  reset(): void {
    this.stepMs = this.o.initialMs;
  }
}

/**
 * period · (1 + jitter · random): a periodic action (a Lease renewal, a watch's lifetime) spread
 * so that clients started together do not stay in step (apimachinery's wait.Jitter).
 */
export function jittered(periodMs: number, jitter: number, random: () => number = Math.random): number {
  return Math.round(periodMs * (1 + jitter * random()));
}
