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
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
