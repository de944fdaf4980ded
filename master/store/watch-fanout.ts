import { StoreEvent, StoreWatch, WatchHandlers } from './store';

/**
 * In-process delivery of store events to many watchers. One publish walks the watcher list once
 * with a string prefix test, so 100 watchers cost 100 `startsWith` calls per event; events are
 * shared between watchers (parsed once), so handlers must treat them as read-only.
 *
 * Delivery is asynchronous (one microtask drains every watcher with queued events) so that a
 * write never runs watcher code inside its transaction and a caller always holds the StoreWatch
 * handle before its first callback.
 */
export class WatchFanout {
  private readonly watchers = new Set<FanoutWatcher>();
  private readonly dirty = new Set<FanoutWatcher>();
  private drainScheduled = false;

  /**
   * Registers a watcher whose first events are `backlog` (already filtered, in revision order).
   * Live events at or below `fromRevision` or the backlog's last revision are dropped, which is
   * what makes the hand-over from backlog to live events free of duplicates.
   */
  add(prefix: string, fromRevision: number, backlog: StoreEvent[], handlers: WatchHandlers): StoreWatch {
    const watcher = new FanoutWatcher(prefix, fromRevision, handlers);
    this.watchers.add(watcher);
    for (const event of backlog) watcher.push(event);
    if (backlog.length > 0) this.markDirty(watcher);
    return {
      stop: () => {
        watcher.stopped = true;
        this.watchers.delete(watcher);
        this.dirty.delete(watcher);
      },
    };
  }

  /** Queues committed events, in revision order, for every watcher whose prefix matches. */
  publish(events: StoreEvent[]): void {
    if (this.watchers.size === 0) return;
    for (const watcher of this.watchers) {
      let queued = false;
      for (const event of events) {
        if (event.key.startsWith(watcher.prefix) && watcher.push(event)) queued = true;
      }
      if (queued) this.markDirty(watcher);
    }
  }

  /** Ends every watcher with err (the store is closing or lost). */
  failAll(err: Error): void {
    for (const watcher of [...this.watchers]) {
      this.watchers.delete(watcher);
      watcher.fail(err);
    }
    this.dirty.clear();
  }

  /** Ends one watch with err before it delivered anything (e.g. its revision is compacted). */
  static failSoon(handlers: WatchHandlers, err: Error): StoreWatch {
    let stopped = false;
    queueMicrotask(() => {
      if (!stopped) handlers.onError(err);
    });
    return { stop: () => (stopped = true) };
  }

  get size(): number {
    return this.watchers.size;
  }

  private markDirty(watcher: FanoutWatcher): void {
    this.dirty.add(watcher);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    const ready = [...this.dirty];
    this.dirty.clear();
    for (const watcher of ready) {
      if (!watcher.deliver()) this.watchers.delete(watcher);
    }
  }
}

class FanoutWatcher {
  stopped = false;
  private queue: StoreEvent[] = [];
  private lastQueued: number;

  constructor(
    readonly prefix: string,
    fromRevision: number,
    private readonly handlers: WatchHandlers,
  ) {
    this.lastQueued = fromRevision;
  }

  /** Returns false for an event the watcher already has (backlog/live overlap). */
  push(event: StoreEvent): boolean {
    if (this.stopped || event.revision <= this.lastQueued) return false;
    this.lastQueued = event.revision;
    this.queue.push(event);
    return true;
  }

  /** Hands queued events to the handler; false when the watcher ended. */
  deliver(): boolean {
    const events = this.queue;
    this.queue = [];
    for (const event of events) {
      if (this.stopped) return false;
      try {
        this.handlers.onEvent(event);
      } catch (err) {
        // A throwing handler would otherwise silently miss events; end its watch loudly instead.
        this.fail(new Error(`watch handler for prefix "${this.prefix}" threw at revision ${event.revision}: ${String(err)}`));
        return false;
      }
    }
    return !this.stopped;
  }

  fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.handlers.onError(err);
  }
}
