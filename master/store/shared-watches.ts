import type { StoreEvent, StoreWatch, WatchHandlers, WatchOptions } from './store';
import { WatchFanout } from './watch-fanout';

/** Opens one watch on the backend (an etcd watch). */
export type OpenWatch = (prefix: string, fromRevision: number, handlers: WatchHandlers) => StoreWatch;

/** How many of a prefix's latest events a shared watch keeps for watchers that start a little behind. */
const RECENT_EVENTS = 2000;

/**
 * One backend watch per prefix, shared by every store watch on that prefix that starts at or
 * after the revision it holds history from. Without it, 5,000 agents watching their pods were
 * 5,000 etcd watches on the pods prefix, and etcd sent (and this process parsed) every pod event
 * 5,000 times; kube-apiserver avoids that the same way, with one etcd watch per resource behind
 * its watch cache. Events are parsed once and handed out through a WatchFanout, with its triggers.
 * A watch from further back than the shared history gets a backend watch of its own.
 */
export class SharedWatches {
  private readonly byPrefix = new Map<string, SharedWatch>();

  constructor(private readonly open: OpenWatch) {}

  /** A watch served from the prefix's shared watch, or undefined when it cannot serve fromRevision. */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers, options: WatchOptions = {}): StoreWatch | undefined {
    let shared = this.byPrefix.get(prefix);
    if (!shared) {
      shared = new SharedWatch(prefix, fromRevision, this.open, () => this.byPrefix.delete(prefix));
      this.byPrefix.set(prefix, shared);
    }
    return shared.subscribe(fromRevision, handlers, options);
  }

  /** How many backend watches are shared now. */
  get size(): number {
    return this.byPrefix.size;
  }
}

class SharedWatch {
  private readonly fanout = new WatchFanout();
  /** The latest events, in revision order; every event after `floor` is here or was trimmed above it. */
  private recent: StoreEvent[] = [];
  private floor: number;
  private ended = false;
  private readonly source: StoreWatch;

  constructor(
    private readonly prefix: string,
    fromRevision: number,
    open: OpenWatch,
    private readonly onEnd: () => void,
  ) {
    this.floor = fromRevision;
    this.source = open(prefix, fromRevision, { onEvent: (e) => this.receive(e), onError: (err) => this.fail(err) });
  }

  subscribe(fromRevision: number, handlers: WatchHandlers, options: WatchOptions): StoreWatch | undefined {
    if (this.ended || fromRevision < this.floor) return undefined;
    const backlog = this.recent.filter((e) => e.revision > fromRevision);
    const watch = this.fanout.add(this.prefix, fromRevision, backlog, handlers, options.trigger);
    return {
      stop: () => {
        watch.stop();
        if (this.fanout.size === 0) this.end();
      },
      catchUp: () => watch.catchUp(),
    };
  }

  private receive(event: StoreEvent): void {
    if (this.ended) return;
    this.recent.push(event);
    // Trim in halves, not one event at a time: a shift per event would copy the whole array.
    if (this.recent.length > 2 * RECENT_EVENTS) {
      const dropped = this.recent.slice(0, this.recent.length - RECENT_EVENTS);
      this.recent = this.recent.slice(dropped.length);
      this.floor = dropped[dropped.length - 1].revision;
    }
    this.fanout.publish([event]);
    if (this.fanout.size === 0) this.end();
  }

  private fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    this.fanout.failAll(err);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    this.source.stop();
  }
}
