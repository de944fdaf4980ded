/// <reference lib="dom" />
import { Api, ApiError, lines, type WatchEvent } from './api';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string; deletionTimestamp?: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[]; generation?: number; annotations?: Record<string, string> };
}

interface ObjectList<T> {
  items: T[];
  metadata: { resourceVersion?: string };
}

export interface FeedState<T> {
  items: T[];
  loaded: boolean;
  error?: string;
}

const retryMs = 1000;

/**
 * One resource kept current: a list, then a watch from the list's resourceVersion, resumed from the
 * last seen version when the stream ends and re-listed when the API says that version is gone (410).
 */
export class ResourceFeed<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private readonly listeners = new Set<() => void>();
  private abort?: AbortController;
  private snapshot: FeedState<T> = { items: [], loaded: false };

  constructor(
    private readonly api: Api,
    private readonly path: string,
  ) {}

  state(): FeedState<T> {
    return this.snapshot;
  }

  /**
   * Watches while someone listens. The browser holds at most six HTTP/1.1 connections to the
   * master and each watch keeps one, so feeds no view shows let theirs go (the objects stay, for
   * an instant first paint when the view comes back).
   */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.abort) {
      this.abort = new AbortController();
      void this.run(this.abort.signal);
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let version: string | undefined;
    while (!signal.aborted) {
      try {
        if (!version) version = await this.list(signal);
        version = await this.watch(version, signal);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.status === 410) {
          version = undefined;
          continue;
        }
        this.publish((err as Error).message);
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return;
        await sleep(retryMs, signal);
      }
    }
  }

  private async list(signal: AbortSignal): Promise<string | undefined> {
    const list = await this.api.get<ObjectList<T>>(this.path, signal);
    this.objects.clear();
    for (const item of list.items) this.objects.set(keyOf(item), item);
    this.publish();
    return list.metadata.resourceVersion;
  }

  /** Follows the watch until the server ends it; answers the last version seen. */
  private async watch(from: string | undefined, signal: AbortSignal): Promise<string | undefined> {
    const sep = this.path.includes('?') ? '&' : '?';
    const body = await this.api.stream(`${this.path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(from ?? '')}`, signal);
    let version = from;
    for await (const line of lines(body)) {
      if (!line.trim()) continue;
      const event = JSON.parse(line) as WatchEvent<T & { code?: number; message?: string; reason?: string }>;
      if (event.type === 'ERROR') {
        const status = event.object;
        throw new ApiError(status.code ?? 500, status.reason ?? 'Error', status.message ?? 'the watch failed');
      }
      version = event.object.metadata?.resourceVersion ?? version;
      if (event.type === 'BOOKMARK') continue;
      if (event.type === 'DELETED') this.objects.delete(keyOf(event.object));
      else this.objects.set(keyOf(event.object), event.object);
      this.publish();
    }
    return version;
  }

  private publish(error?: string): void {
    this.snapshot = { items: [...this.objects.values()], loaded: this.snapshot.loaded || !error, error };
    for (const l of this.listeners) l();
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
