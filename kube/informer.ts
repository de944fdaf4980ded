import { ApiError } from './api-error';
import { Backoff, jittered } from './backoff';
import type { ListQuery, WatchHandle } from './client';
import { deepFreeze } from './deep-freeze';
import type { ListWatch } from './list-watch';
import { objectKey, type KubeObject, type WatchEventKind } from './object';
import type { ResourceRef } from './resource-path';

export type InformerHandler<T extends KubeObject> = (type: Exclude<WatchEventKind, 'BOOKMARK' | 'ERROR'>, obj: T, old?: T) => void;

export interface InformerOptions<T extends KubeObject = KubeObject> {
  /** Label and field selectors applied to both list and watch. */
  query?: Pick<ListQuery, 'labelSelector' | 'fieldSelector'>;
  /**
   * Wait before re-listing after an error: from backoffMs (default 800 ms) doubling up to
   * maxBackoffMs (default 30 s), each wait drawn from [d, 2d), and back to backoffMs once no error
   * came for 2 minutes: client-go's reflector, so the nodes that lost a master together do not
   * come back to it together (kube/backoff.ts).
   */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Random in [0, 1) for the back-off's and the watch timeout's jitter (tests fix it). */
  random?: () => number;
  onError?: (err: Error) => void;
  /**
   * Applied to every object before it is cached and handed to handlers (client-go's
   * TransformFunc): it may drop fields the informer's readers never use, and must keep the
   * object's namespace, name and resourceVersion.
   */
  transform?: (obj: T) => T;
  /**
   * Freeze every object once transformed (default false). Readers must never change what an
   * informer hands them (client-go's rule); frozen, a change throws where it is made. Needed when
   * the source shares parts of its objects with others (the master's store-backed source).
   */
  freeze?: boolean;
}

const MIN_WATCH_TIMEOUT_MS = 300_000;
const VERY_SHORT_WATCH_MS = 1000;

/** True for the watch failures client-go's reflector retries as a watch: a refused connection, 429 Too Many Requests. */
function rewatchable(err: unknown): boolean {
  if (err instanceof ApiError) return err.code === 429;
  const e = err as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  return e.code === 'ECONNREFUSED' || e.cause?.code === 'ECONNREFUSED' || /\bECONNREFUSED\b/.test(String(e.message ?? ''));
}

/**
 * List-then-watch cache of one resource, as client-go's shared informer: it keeps a local copy
 * keyed by namespace/name, re-watches from its last resourceVersion when a stream ends or cannot
 * start for a refused connection or a 429, and re-lists (emitting the differences) after 410
 * Gone or any other failure.
 */
export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private resourceVersion = '';
  private watchHandle?: WatchHandle;
  private stopped = false;
  private started = false;
  private syncedOnce = false;
  private readonly synced: Promise<void>;
  private markSynced!: () => void;
  private readonly backoff: Backoff;

  constructor(
    private readonly source: ListWatch,
    private readonly ref: ResourceRef,
    private readonly options: InformerOptions<T> = {},
  ) {
    const initialMs = options.backoffMs ?? 800;
    this.backoff = new Backoff({ initialMs, maxMs: Math.max(initialMs, options.maxBackoffMs ?? 30_000), resetAfterMs: 120_000, random: options.random });
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  /**
   * Starts the loop; resolves once the first list has been applied. Calling it again only waits
   * for that list, so readers sharing one informer may each make sure it runs.
   */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      void this.loop();
    }
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.watchHandle?.stop();
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  hasSynced(): boolean {
    return this.syncedOnce;
  }

  private async loop(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        needList = await this.watchOnce();
      } catch (err) {
        this.options.onError?.(err as Error);
        // A watch that failed to a refused connection or a 429 is tried again from where it was
        // (client-go's reflector): a master that restarts on its store then serves every node's
        // watch instead of every node's list. A master whose store was replaced answers that
        // watch with 410 Gone or 504 ResourceVersionTooLarge, and the next round lists.
        if (!needList && !rewatchable(err)) needList = true;
        await sleep(this.backoff.next());
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.source.list<T>(this.ref, { ...this.options.query });
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = objectKey(obj);
      seen.add(key);
      this.apply('MODIFIED', obj);
    }
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('DELETED', old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.markSynced();
    }
  }

  /**
   * Returns true when the next round must re-list (410 Gone). A watch that ends within a second
   * without a single event counts as a failure (client-go's "very short watch"): a server that
   * closes every watch at once would otherwise be asked again in a tight loop.
   */
  private watchOnce(): Promise<boolean> {
    return new Promise((resolve, reject) => {
      let gone = false;
      let failure: Error | undefined;
      let events = 0;
      const startedAt = performance.now();
      this.watchHandle = this.source.watch<T>(
        this.ref,
        { ...this.options.query, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: this.watchTimeoutSeconds() },
        (event) => {
          events++;
          if (event.object.metadata?.resourceVersion) this.resourceVersion = event.object.metadata.resourceVersion;
          if (event.type === 'BOOKMARK') return;
          this.apply(event.type as 'ADDED' | 'MODIFIED' | 'DELETED', event.object);
        },
        (err) => {
          if (ApiError.isGone(err)) gone = true;
          else failure = err;
        },
      );
      this.watchHandle.done.then(() => {
        const lastedMs = performance.now() - startedAt;
        if (this.stopped || gone) resolve(gone);
        else if (failure) reject(failure);
        else if (events === 0 && lastedMs < VERY_SHORT_WATCH_MS) reject(new Error(`the watch of ${this.ref.resource} ended after ${Math.round(lastedMs)} ms without an event; listing again after a back-off`));
        else resolve(false);
      });
    });
  }

  /**
   * 5 to 10 minutes, at random (client-go's reflector): every informer started together would
   * otherwise end its watch together, every 5 minutes, and re-watch in the same instant.
   */
  private watchTimeoutSeconds(): number {
    return Math.floor(jittered(MIN_WATCH_TIMEOUT_MS, 1, this.options.random) / 1000);
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', received: T): void {
    const transformed = this.options.transform ? this.options.transform(received) : received;
    const obj = this.options.freeze ? deepFreeze(transformed) : transformed;
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      if (!old) return;
      this.cache.delete(key);
      this.emit('DELETED', obj, old);
      return;
    }
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.cache.set(key, obj);
    this.emit(old ? 'MODIFIED' : 'ADDED', obj, old);
  }

  private emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T, old?: T): void {
    for (const handler of this.handlers) handler(type, obj, old);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
