import { keysOf, withKey, withoutKey, type OneOrMany } from './one-or-many';
import type { StoreEvent, StoreWatch, WatchHandlers, WatchTrigger } from './store';

/**
 * In-process delivery of store events to many watchers. One publish walks the watchers without a
 * trigger with a string prefix test, so 100 watchers cost 100 `startsWith` calls per event;
 * watchers with a trigger (an agent's pods, by spec.nodeName) are looked up by the event's value,
 * so 5,000 of them cost one lookup. Events are shared between watchers (parsed once), so handlers
 * must treat them as read-only.
 *
 * Delivery is asynchronous (one setImmediate drains every watcher with queued events) so that a
 * write never runs watcher code inside its transaction, a caller always holds the StoreWatch
 * handle before its first callback, and the writers of a commit get their answers before its
 * events are handed to a thousand watchers (a microtask ran that ahead of the writers' replies).
 * Events are queued per watcher at publish, so the order and the backlog hand-over are the same.
 * A watcher that must not wait for the drain (an in-process cache answering a consistent read)
 * takes its queue at once through its StoreWatch's catchUp.
 */
export class WatchFanout {
  private readonly watchers = new Set<FanoutWatcher>();
  private readonly dirty = new Set<FanoutWatcher>();
  private drainScheduled = false;
  /** Watchers without a trigger: every event under their prefix is theirs. */
  private readonly untriggered = new Set<FanoutWatcher>();
  /** Triggered watchers by field, then by the value they wait for. */
  private readonly triggered = new Map<string, Map<string, Set<FanoutWatcher>>>();
  /** For each key, the triggered watchers that got it with their value (they must see it change or go). */
  private readonly holders = new Map<string, Set<FanoutWatcher>>();

  /**
   * Registers a watcher whose first events are `backlog` (already filtered, in revision order).
   * Live events at or below `fromRevision` or the backlog's last revision are dropped, which is
   * what makes the hand-over from backlog to live events free of duplicates.
   */
  add(prefix: string, fromRevision: number, backlog: StoreEvent[], handlers: WatchHandlers, trigger?: WatchTrigger): StoreWatch {
    const watcher = new FanoutWatcher(this, prefix, fromRevision, handlers, trigger);
    this.watchers.add(watcher);
    this.index(watcher);
    for (const key of trigger?.held ?? []) this.holdKey(watcher, key);
    for (const event of backlog) {
      if (watcher.push(event)) this.hold(watcher, event);
    }
    if (backlog.length > 0) this.markDirty(watcher);
    return watcher;
  }

  /** Hands one watcher its queued events: in the drain, or out of turn (the next drain then finds its queue empty). */
  deliverNow(watcher: FanoutWatcher): void {
    if (watcher.stopped) return;
    this.dirty.delete(watcher);
    if (!watcher.deliver()) this.remove(watcher);
  }

  /** Queues committed events, in revision order, for every watcher whose prefix (and trigger) matches. */
  publish(events: StoreEvent[]): void {
    if (this.watchers.size === 0) return;
    for (const event of events) {
      for (const watcher of this.audience(event)) {
        if (!event.key.startsWith(watcher.prefix) || !watcher.push(event)) continue;
        this.hold(watcher, event);
        this.markDirty(watcher);
      }
    }
  }

  private *audience(event: StoreEvent): Iterable<FanoutWatcher> {
    yield* this.untriggered;
    if (this.triggered.size === 0) return;
    const held = this.holders.get(event.key);
    for (const [field, byValue] of this.triggered) {
      for (const watcher of byValue.get(fieldValue(event.value, field)) ?? []) if (!held?.has(watcher)) yield watcher;
    }
    if (held) yield* [...held];
  }

  /** Remembers which keys a triggered watcher holds with its value, to send it their change or removal. */
  private hold(watcher: FanoutWatcher, event: StoreEvent): void {
    const field = watcher.triggerField;
    if (field === undefined) return;
    const held = this.holders.get(event.key);
    if (event.type !== 'DELETED' && fieldValue(event.value, field) === watcher.triggerValue) {
      this.holdKey(watcher, event.key);
    } else if (held?.delete(watcher)) {
      if (held.size === 0) this.holders.delete(event.key);
      watcher.held = withoutKey(watcher.held, event.key);
    }
  }

  private holdKey(watcher: FanoutWatcher, key: string): void {
    let held = this.holders.get(key);
    if (!held) this.holders.set(key, (held = new Set()));
    held.add(watcher);
    watcher.held = withKey(watcher.held, key);
  }

  private index(watcher: FanoutWatcher): void {
    const field = watcher.triggerField;
    if (field === undefined) {
      this.untriggered.add(watcher);
      return;
    }
    let byValue = this.triggered.get(field);
    if (!byValue) this.triggered.set(field, (byValue = new Map()));
    let set = byValue.get(watcher.triggerValue);
    if (!set) byValue.set(watcher.triggerValue, (set = new Set()));
    set.add(watcher);
  }

  remove(watcher: FanoutWatcher): void {
    watcher.stopped = true;
    this.watchers.delete(watcher);
    this.dirty.delete(watcher);
    this.untriggered.delete(watcher);
    const field = watcher.triggerField;
    if (field === undefined) return;
    const byValue = this.triggered.get(field);
    const set = byValue?.get(watcher.triggerValue);
    set?.delete(watcher);
    if (set?.size === 0) byValue?.delete(watcher.triggerValue);
    if (byValue?.size === 0) this.triggered.delete(field);
    for (const key of keysOf(watcher.held)) {
      const held = this.holders.get(key);
      held?.delete(watcher);
      if (held?.size === 0) this.holders.delete(key);
    }
    watcher.held = undefined;
  }

  /** Ends every watcher with err (the store is closing or lost). */
  failAll(err: Error): void {
    for (const watcher of [...this.watchers]) {
      watcher.fail(err);
      this.remove(watcher);
    }
    this.dirty.clear();
  }

  /** Ends one watch with err before it delivered anything (e.g. its revision is compacted). */
  static failSoon(handlers: WatchHandlers, err: Error): StoreWatch {
    let stopped = false;
    queueMicrotask(() => {
      if (!stopped) handlers.onError(err);
    });
    return { stop: () => (stopped = true), catchUp: () => undefined };
  }

  get size(): number {
    return this.watchers.size;
  }

  private markDirty(watcher: FanoutWatcher): void {
    this.dirty.add(watcher);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    const ready = [...this.dirty];
    this.dirty.clear();
    for (const watcher of ready) this.deliverNow(watcher);
  }
}

/**
 * One watcher, and its own StoreWatch handle: at 5,000 nodes the master holds ~115,000 of them,
 * so a watcher is one object whose queue exists only while it has events and whose held keys are
 * a Set only from the second one.
 */
class FanoutWatcher implements StoreWatch {
  stopped = false;
  /** The keys this watcher got with its trigger's value. */
  held: OneOrMany;
  /** The trigger's field and value, kept apart from its `held` list, which was needed only at the start. */
  readonly triggerField: string | undefined;
  readonly triggerValue: string;
  private queue: StoreEvent[] | undefined;
  private lastQueued: number;

  constructor(
    private readonly fanout: WatchFanout,
    readonly prefix: string,
    fromRevision: number,
    private readonly handlers: WatchHandlers,
    trigger: WatchTrigger | undefined,
  ) {
    this.lastQueued = fromRevision;
    this.triggerField = trigger?.field;
    this.triggerValue = trigger?.value ?? '';
  }

  stop(): void {
    this.fanout.remove(this);
  }

  catchUp(): void {
    this.fanout.deliverNow(this);
  }

  /** Returns false for an event the watcher already has (backlog/live overlap). */
  push(event: StoreEvent): boolean {
    if (this.stopped || event.revision <= this.lastQueued) return false;
    this.lastQueued = event.revision;
    (this.queue ??= []).push(event);
    return true;
  }

  /** Hands queued events to the handler; false when the watcher ended. */
  deliver(): boolean {
    const events = this.queue ?? [];
    this.queue = undefined;
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
    this.queue = undefined;
    this.handlers.onError(err);
  }
}

/** A field of a stored value as a field selector reads it: '' when absent, objects as JSON. */
export function fieldValue(value: Record<string, unknown>, field: string): string {
  let cur: unknown = value;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}
