import type { Event, ObjectReference } from 'kubernetes-types/core/v1';
import type { KubeClient } from './client';
import { ApiError } from './api-error';
import type { KubeObject } from './object';
import { core } from './resource-path';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** source.component and reportingController, e.g. "default-scheduler". */
  component: string;
  /** reportingInstance / source.host. */
  instance?: string;
  /** Concurrent API calls (default 4): events must never crowd out the work they describe. */
  maxInFlight?: number;
  /**
   * Writes per second once the burst is spent (default 50, burst 100, about client-go's event
   * budget), so a storm of events (10,000 Scheduled in a burst) trickles out behind the work.
   */
  qps?: number;
  burst?: number;
  /** Events beyond this many waiting are dropped, as upstream's broadcaster does (default 5000). */
  maxQueued?: number;
  /** How many distinct events are remembered for de-duplication (default 4096). */
  cacheSize?: number;
  onError?: (err: Error) => void;
}

interface Entry {
  ns: string;
  name: string;
  event: Event;
  created: boolean;
  queued: boolean;
}

/** The involved object as an ObjectReference; list items often lack kind, so it is passed in. */
export function objectRef(obj: KubeObject, kind: string, apiVersion = 'v1'): ObjectReference {
  return {
    kind: obj.kind ?? kind,
    apiVersion: obj.apiVersion ?? apiVersion,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
    uid: obj.metadata?.uid,
    resourceVersion: obj.metadata?.resourceVersion,
  };
}

/**
 * Writes core/v1 Events without blocking the caller. The same (object, type, reason, message)
 * seen again bumps count and lastTimestamp of the existing Event instead of writing a new one,
 * and repeats that arrive before the first write went out are folded into it.
 */
export class EventRecorder {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: string[] = [];
  private inFlight = 0;
  private seq = 0;
  private idle: (() => void)[] = [];
  private stopped = false;
  private tokens: number;
  private refilledAt = Date.now();
  private refillTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: EventRecorderOptions,
  ) {
    this.tokens = options.burst ?? 100;
  }

  record(ref: ObjectReference, type: EventType, reason: string, message: string): void {
    if (this.stopped) return;
    const key = [ref.kind, ref.namespace, ref.name, ref.uid, type, reason, message].join('\u0000');
    const now = new Date().toISOString();
    let entry = this.entries.get(key);
    if (entry) {
      entry.event.count = (entry.event.count ?? 1) + 1;
      entry.event.lastTimestamp = now;
      this.entries.delete(key); // re-insert: the map doubles as an LRU list
      this.entries.set(key, entry);
    } else {
      entry = this.newEntry(ref, type, reason, message, now);
      this.entries.set(key, entry);
      this.evict();
    }
    if (!entry.queued) {
      if (this.queue.length >= (this.options.maxQueued ?? 5000)) return;
      entry.queued = true;
      this.queue.push(key);
    }
    this.pump();
  }

  /** Resolves once everything recorded so far has been written (or failed). */
  flush(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    if (this.refillTimer) clearTimeout(this.refillTimer);
    for (const r of this.idle.splice(0)) r();
  }

  /** Token bucket: true if a write may go now; otherwise pump() is called again when a token is due. */
  private takeToken(): boolean {
    const qps = this.options.qps ?? 50;
    const burst = this.options.burst ?? 100;
    const now = Date.now();
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) * qps) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    if (!this.refillTimer) {
      this.refillTimer = setTimeout(() => {
        this.refillTimer = undefined;
        this.pump();
      }, Math.ceil(((1 - this.tokens) * 1000) / qps));
      this.refillTimer.unref();
    }
    return false;
  }

  private newEntry(ref: ObjectReference, type: EventType, reason: string, message: string, now: string): Entry {
    const ns = ref.namespace || 'default';
    // Upstream names events "<object>.<hex nanoseconds>"; the sequence keeps names unique within a millisecond.
    const name = `${ref.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: ref,
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.options.component, host: this.options.instance },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance ?? '',
    };
    return { ns, name, event, created: false, queued: false };
  }

  private evict(): void {
    const max = this.options.cacheSize ?? 4096;
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value as string;
      const e = this.entries.get(oldest);
      if (e?.queued) break;
      this.entries.delete(oldest);
    }
  }

  private pump(): void {
    const max = this.options.maxInFlight ?? 4;
    while (this.inFlight < max && this.queue.length > 0 && !this.stopped && this.takeToken()) {
      const key = this.queue.shift() as string;
      const entry = this.entries.get(key);
      if (!entry) continue;
      entry.queued = false;
      this.inFlight++;
      this.write(entry)
        .catch((err: Error) => this.options.onError?.(new Error(`recording event ${entry.event.reason} for ${entry.event.involvedObject.name}: ${err.message}`)))
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.queue.length === 0 && this.inFlight === 0) for (const r of this.idle.splice(0)) r();
        });
    }
  }

  private async write(entry: Entry): Promise<void> {
    if (this.stopped) return;
    const { count, lastTimestamp } = entry.event;
    if (entry.created) {
      try {
        await this.client.patch(core('events', entry.ns, entry.name), 'merge', { count, lastTimestamp });
        return;
      } catch (err) {
        // The TTL cleaner may have removed it: write it afresh.
        if (!ApiError.isNotFound(err)) throw err;
      }
    }
    entry.created = true;
    try {
      await this.client.create(core('events', entry.ns), entry.event);
    } catch (err) {
      if (ApiError.isAlreadyExists(err)) {
        await this.client.patch(core('events', entry.ns, entry.name), 'merge', { count, lastTimestamp });
        return;
      }
      entry.created = false;
      throw err;
    }
  }
}
