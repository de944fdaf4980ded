/**
 * One worker per pod: syncs run one at a time per pod, a request made during a sync runs once
 * more afterwards, and delayed requests (back-off expiry, probe periods) collapse to the earliest.
 */
export type SyncResult = 'keep' | 'done';

interface Worker {
  running: boolean;
  again: boolean;
  timer?: NodeJS.Timeout;
  dueAt?: number;
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private readonly active = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly sync: (uid: string) => Promise<SyncResult>, private readonly onError: (uid: string, err: Error) => void) {}

  request(uid: string, delayMs = 0): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) this.workers.set(uid, (w = { running: false, again: false }));
    if (delayMs > 0) {
      const due = Date.now() + delayMs;
      if (w.timer && w.dueAt !== undefined && w.dueAt <= due) return;
      if (w.timer) clearTimeout(w.timer);
      w.dueAt = due;
      w.timer = setTimeout(() => {
        const cur = this.workers.get(uid);
        if (cur) cur.timer = cur.dueAt = undefined;
        this.request(uid);
      }, delayMs);
      w.timer.unref();
      return;
    }
    if (w.running) {
      w.again = true;
      return;
    }
    this.run(uid, w);
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  uids(): string[] {
    return [...this.workers.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) if (w.timer) clearTimeout(w.timer);
    await Promise.all([...this.active]);
  }

  private run(uid: string, w: Worker): void {
    w.running = true;
    const p = (async () => {
      let result: SyncResult = 'keep';
      do {
        w.again = false;
        try {
          result = await this.sync(uid);
        } catch (err) {
          this.onError(uid, err as Error);
          if (!this.stopped) this.request(uid, 2000);
        }
      } while (w.again && !this.stopped);
      w.running = false;
      if (result === 'done' && !w.again) {
        if (w.timer) clearTimeout(w.timer);
        this.workers.delete(uid);
      }
    })();
    this.active.add(p);
    void p.finally(() => this.active.delete(p));
  }
}
