/** Something a WatchClock calls back once its time has come. */
export interface Due {
  /** Called at or after the time it was scheduled for, at most one tick late. */
  due(nowMs: number): void;
}

/**
 * One timer for every open watch. A watch needs two wake-ups (its next bookmark, its timeout);
 * a Node timer each cost ~240 bytes of heap and a closure per watch, and the master holds over
 * 100,000 watches at 5,000 nodes. Here a watch sits in the set of the tick it is due in, the one
 * interval runs only while something is scheduled, and a tick touches only what is due then,
 * so the cost follows the wake-ups, not the number of watches.
 */
export class WatchClock {
  private readonly slots = new Map<number, Set<Due>>();
  private readonly slotOf = new Map<Due, number>();
  /** The last tick whose slot was run. */
  private ran: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs = 100) {
    this.ran = Math.floor(Date.now() / tickMs);
  }

  /** Calls d.due once atMs has passed, in place of any earlier schedule of d. */
  schedule(d: Due, atMs: number): void {
    this.cancel(d);
    // Idle until now: nothing is scheduled in the slots passed meanwhile, so start from the present.
    if (!this.timer) this.ran = Math.floor(Date.now() / this.tickMs);
    const slot = Math.max(Math.ceil(atMs / this.tickMs), this.ran + 1);
    let members = this.slots.get(slot);
    if (!members) this.slots.set(slot, (members = new Set()));
    members.add(d);
    this.slotOf.set(d, slot);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      // Open watches keep the process alive through their sockets; the clock alone must not.
      this.timer.unref();
    }
  }

  cancel(d: Due): void {
    const slot = this.slotOf.get(d);
    if (slot === undefined) return;
    this.slotOf.delete(d);
    const members = this.slots.get(slot);
    members?.delete(d);
    if (members?.size === 0) this.slots.delete(slot);
  }

  get size(): number {
    return this.slotOf.size;
  }

  private tick(): void {
    const now = Date.now();
    const current = Math.floor(now / this.tickMs);
    // Every slot since the last tick, in order: a late timer (a busy event loop) skips none.
    for (let slot = this.ran + 1; slot <= current; slot++) {
      this.ran = slot;
      const members = this.slots.get(slot);
      if (!members) continue;
      this.slots.delete(slot);
      for (const d of members) {
        this.slotOf.delete(d);
        d.due(now);
      }
    }
    if (this.slotOf.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
