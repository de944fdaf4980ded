import { ApiError } from './api-error';
import type { ListQuery, WatchHandle } from './client';
import { deepFreeze } from './deep-freeze';
import type { ListWatch } from './list-watch';
import { objectKey, type KubeObject, type WatchEventKind } from './object';
import type { ResourceRef } from './resource-path';

export type InformerHandler<T extends KubeObject> = (type: Exclude<WatchEventKind, 'BOOKMARK' | 'ERROR'>, obj: T, old?: T) => void;

export interface InformerOptions<T extends KubeObject = KubeObject> {
  /** Label and field selectors applied to both list and watch. */
  query?: Pick<ListQuery, 'labelSelector' | 'fieldSelector'>;
  /** Wait before re-listing after an error, doubling up to maxBackoffMs (default 500 ms → 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
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

/**
 * List-then-watch cache of one resource, as client-go's shared informer: it keeps a local copy
 * keyed by namespace/name, re-watches from its last resourceVersion when a stream ends, and
 * re-lists (emitting the differences) when the server answers 410 Gone or cannot be reached.
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
  private backoff: number;

  constructor(
    private readonly source: ListWatch,
    private readonly ref: ResourceRef,
    private readonly options: InformerOptions<T> = {},
  ) {
    this.backoff = options.backoffMs ?? 500;
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
        if (needList) await this.relist();
        needList = await this.watchOnce();
        this.backoff = this.options.backoffMs ?? 500;
      } catch (err) {
        this.options.onError?.(err as Error);
        needList = true;
        await sleep(this.backoff);
        this.backoff = Math.min(this.backoff * 2, this.options.maxBackoffMs ?? 10_000);
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

  /** Returns true when the next round must re-list (410 Gone). */
  private watchOnce(): Promise<boolean> {
    return new Promise((resolve, reject) => {
      let gone = false;
      let failure: Error | undefined;
      this.watchHandle = this.source.watch<T>(
        this.ref,
        { ...this.options.query, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
        (event) => {
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
        if (failure && !this.stopped) reject(failure);
        else resolve(gone);
      });
    });
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
