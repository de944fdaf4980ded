/**
 * Caps how many pods change their containers at once. Container engines serialise much of their
 * work internally (podman most of all), so thirty pods starting in lockstep all finish late; a few
 * at a time finish one after another, and the first ones are running in well under a second.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /**
   * A slot taken only when first needed: a sync that finds nothing to change (most syncs, woken by
   * the PLEG or the resync) must not queue behind pods that are starting, nor hold them up.
   */
  permit(): Permit {
    let held = false;
    return {
      take: async () => {
        if (held) return 0;
        const t0 = performance.now();
        await this.acquire();
        held = true;
        return performance.now() - t0;
      },
      release: () => {
        if (held) this.release();
        held = false;
      },
    };
  }

  private async acquire(): Promise<void> {
    // A released slot passes straight to the first waiter, so no newcomer slips in between.
    if (this.active >= this.limit) return new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** One sync's claim on a Semaphore slot. */
export interface Permit {
  /** Waits for the slot unless already held; resolves with the ms waited. */
  take(): Promise<number>;
  release(): void;
}
