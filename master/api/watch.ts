import type { ServerResponse } from 'node:http';
import type { Store, StoreEvent, StoreWatch, WatchTrigger } from '../store/store';
import { StoreError } from '../store/store';
import { hasKey, keysOf, withKey, withoutKey, type OneOrMany } from '../store/one-or-many';
import type { FieldSelector } from './field-selector';
import type { Selector } from '../../kube/label-selector';
import { storeKey, withVersion, type Obj } from './registry';
import { apiVersionOf, type ResourceInfo } from './resources';
import { errors, HttpError } from './status';
import { WatchClock, type Due } from './watch-clock';
import { watchEventLine } from './watch-event-lines';
import { WatchStream } from './watch-stream';

export interface WatchRequest {
  resource: ResourceInfo;
  namespace?: string;
  /** Watch a single object (fieldSelector metadata.name=X). */
  labelSelector?: Selector;
  fieldSelector?: FieldSelector;
  /** '' or '0': send the current state as ADDED first. */
  resourceVersion: string;
  bookmarks: boolean;
  timeoutSeconds: number;
  bookmarkIntervalMs: number;
}

/** What the request that opened a watch hears of it. */
export interface WatchHooks {
  /** The 200 has gone out: the watch now streams. */
  opened(): void;
  /** Called once, after opened, when the watch has ended (timeout, error, client gone, initial list failed). */
  closed(): void;
}

/** The one timer of every open watch (bookmarks and timeouts). */
const clock = new WatchClock();

/**
 * Starts a watch the way Kubernetes streams one: chunked JSON, one event per line; objects
 * entering or leaving the selector appear as ADDED / DELETED; BOOKMARKs carry the latest
 * revision; a compacted start revision ends with an ERROR event holding a 410 Status. Returns
 * once the watch streams, so nothing of the request that opened it stays on the heap for the
 * watch's life: the watch is one ServerWatch, held by the store's watcher, its response and the
 * clock (~115,000 of them at 5,000 nodes). A refusal before the 200 (a bad or too new
 * resourceVersion) rejects; hooks.closed follows opened once the watch is over.
 */
export async function serveWatch(store: Store, w: WatchRequest, res: ServerResponse, hooks: WatchHooks): Promise<void> {
  const r = w.resource;
  const prefix = storeKey(r, w.namespace);
  const stream = new WatchStream(res);
  const fromList = w.resourceVersion === '' || w.resourceVersion === '0';
  let from = 0;
  if (!fromList) {
    from = Number(w.resourceVersion);
    // Refused before the 200 goes out, so the client gets the 400 itself.
    if (!Number.isInteger(from) || from < 0) throw errors.badRequest(`invalid resourceVersion "${w.resourceVersion}": it must be a resourceVersion returned by this server`);
    await awaitRevision(store, from);
  }
  // No transfer-encoding header: HTTP/1.1 chunks a response without a length by itself, and in
  // HTTP/2 the header is forbidden.
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  // Send the headers now: clients (client-node's informer) wait for them before reporting the watch up.
  res.flushHeaders();
  hooks.opened();
  const watch = new ServerWatch(r, w.labelSelector, w.fieldSelector, w.bookmarks ? w.bookmarkIntervalMs : 0, stream, hooks);
  if (fromList) {
    try {
      from = await watch.sendList(store, prefix);
    } catch (err) {
      watch.end();
      throw err;
    }
  }
  watch.start(store, prefix, from, triggerOf(w, watch.held()), Date.now() + w.timeoutSeconds * 1000);
}

/**
 * One open watch: its selectors, its stream and where it stands. Methods rather than closures,
 * so a watch is one object and its fields, not a request handler's frame.
 */
class ServerWatch implements Due {
  /** Keys of the objects the client holds as matching: it must hear them leave the selector. */
  private matching: OneOrMany;
  private lastRevision = 0;
  private storeWatch: StoreWatch | undefined;
  private store: Store | undefined;
  private finished = false;
  private deadline = 0;
  /** The revision the watch started after, for the 410's message. */
  private from = 0;

  constructor(
    private readonly resource: ResourceInfo,
    private readonly labelSelector: Selector | undefined,
    private readonly fieldSelector: FieldSelector | undefined,
    /** 0: the client did not ask for bookmarks. */
    private readonly bookmarkIntervalMs: number,
    private readonly stream: WatchStream,
    private readonly hooks: WatchHooks,
  ) {
    // From the start: a client that goes during the initial list ends the watch too.
    stream.onClose(() => this.end());
  }

  /** Sends the current state as ADDED; returns the list's revision, where the watch goes on from. */
  async sendList(store: Store, prefix: string): Promise<number> {
    const list = await store.list(prefix);
    for (const sv of list.items) {
      const obj = withVersion(this.resource, sv);
      if (!this.matches(obj)) continue;
      this.hold(sv.key);
      this.send('ADDED', obj);
    }
    return list.revision;
  }

  held(): string[] {
    return keysOf(this.matching);
  }

  start(store: Store, prefix: string, from: number, trigger: WatchTrigger | undefined, deadline: number): void {
    if (this.finished) return;
    // The client may have gone before the response's close could reach this watch (while it
    // waited for a resourceVersion): without this the store would feed it until its timeout.
    if (this.stream.gone()) {
      this.end();
      return;
    }
    this.store = store;
    this.from = from;
    this.lastRevision = from;
    this.deadline = deadline;
    this.storeWatch = store.watch(prefix, from, this, { trigger });
    this.scheduleNext(Date.now());
  }

  /** The store's events (WatchHandlers.onEvent). */
  onEvent(ev: StoreEvent): void {
    this.lastRevision = ev.revision;
    const obj = objectOf(this.resource, ev);
    const was = hasKey(this.matching, ev.key);
    if (ev.type === 'DELETED') {
      if (was || this.matches(obj)) this.sendShared('DELETED', obj);
      this.matching = withoutKey(this.matching, ev.key);
    } else if (this.matches(obj)) {
      // The store's own type: a resumed watch cannot know what the client saw before it.
      this.hold(ev.key);
      this.sendShared(ev.type, obj);
    } else if (was) {
      this.matching = withoutKey(this.matching, ev.key);
      this.sendShared('DELETED', obj);
    }
  }

  /** The store cannot go on (WatchHandlers.onError). */
  onError(err: Error): void {
    const gone = err instanceof StoreError && err.code === 'Gone';
    const status = gone
      ? errors.gone(`too old resource version: ${this.from} (${err.message})`).toStatus()
      : errors.internal(`watch ended: ${err.message}`).toStatus();
    this.send('ERROR', status);
    this.end();
  }

  /** The clock: the timeout, or a bookmark. */
  due(nowMs: number): void {
    if (this.finished) return;
    if (nowMs >= this.deadline) {
      this.end();
      return;
    }
    // A watch narrowed by a trigger hears of nothing else; the store's progress lets its bookmark
    // move on anyway, so a client that resumes (every few minutes) does not make the store read
    // every event since its last one. Sent after the store's queued deliveries: nothing skipped.
    queueBookmark(this, this.store?.progress?.() ?? 0);
    this.scheduleNext(nowMs);
  }

  sendBookmark(progress: number): void {
    if (this.finished) return;
    this.lastRevision = Math.max(this.lastRevision, progress);
    const r = this.resource;
    this.send('BOOKMARK', { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(this.lastRevision) } });
  }

  /** Called by the timeout, an error and the response's close, often more than one of them. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    clock.cancel(this);
    this.storeWatch?.stop();
    this.storeWatch = undefined;
    this.hooks.closed();
    this.stream.end();
  }

  private scheduleNext(nowMs: number): void {
    const at = this.bookmarkIntervalMs > 0 ? Math.min(nowMs + this.bookmarkIntervalMs, this.deadline) : this.deadline;
    clock.schedule(this, at);
  }

  private matches(obj: Obj): boolean {
    return (!this.labelSelector || this.labelSelector.matches(obj.metadata?.labels)) && (!this.fieldSelector || this.fieldSelector.matches(obj));
  }

  private hold(key: string): void {
    this.matching = withKey(this.matching, key);
  }

  private send(type: string, object: unknown): void {
    this.stream.write(JSON.stringify({ type, object }) + '\n');
  }

  /** For objects the store shares between watchers: encoded once for all of them. */
  private sendShared(type: string, object: Obj): void {
    this.stream.write(watchEventLine(type, object));
  }
}

/** Bookmarks due in this tick, each with the store's progress when it fell due: one setImmediate for all. */
let bookmarks: Array<{ watch: ServerWatch; progress: number }> = [];

function queueBookmark(watch: ServerWatch, progress: number): void {
  if (bookmarks.length === 0) setImmediate(sendBookmarks);
  bookmarks.push({ watch, progress });
}

function sendBookmarks(): void {
  const due = bookmarks;
  bookmarks = [];
  for (const b of due) b.watch.sendBookmark(b.progress);
}

/** Each event's object as each apiVersion shows it. */
const shown = new WeakMap<StoreEvent, Map<string, Obj>>();

/**
 * The object of an event in the wire form of r, made once per event and version and shared by
 * every watcher of that version (whose line cache keys on it): with thousands of watchers the
 * per-watcher work is a lookup. A copy, so the store's event value stays as stored.
 */
function objectOf(r: ResourceInfo, ev: StoreEvent): Obj {
  const version = versionOf(r);
  let byVersion = shown.get(ev);
  let obj = byVersion?.get(version);
  if (obj) return obj;
  obj = withVersion(r, { value: r.conversion ? ev.value : { ...ev.value }, modRevision: ev.revision });
  if (!byVersion) shown.set(ev, (byVersion = new Map()));
  byVersion.set(version, obj);
  return obj;
}

const versions = new WeakMap<ResourceInfo, string>();

/** r's apiVersion/kind, made once per resource rather than per watch. */
function versionOf(r: ResourceInfo): string {
  let version = versions.get(r);
  if (version === undefined) versions.set(r, (version = `${apiVersionOf(r)}/${r.kind}`));
  return version;
}

/**
 * The field value this watch is about, for the store to hand it only events of objects with it:
 * an agent's pods (spec.nodeName, immutable once bound) or one object by name. `held`: the keys
 * the initial list already sent, which the watch must see change or go.
 */
function triggerOf(w: WatchRequest, held: string[]): WatchTrigger | undefined {
  if (!w.fieldSelector || w.resource.conversion) return undefined;
  const fields = w.resource.kind === 'Pod' && w.resource.group === '' ? ['spec.nodeName', 'metadata.name'] : ['metadata.name'];
  for (const field of fields) {
    const value = w.fieldSelector.exact(field);
    if (value !== undefined) return { field, value, held };
  }
  return undefined;
}

/** How long a watch from a resourceVersion this store has not reached waits for it, as kube-apiserver does. */
const FUTURE_REVISION_WAIT_MS = 3000;

/**
 * A resourceVersion ahead of the store: another master's write not yet visible here (wait for it),
 * or one from before the store was restored from a snapshot (it will never come). The latter is a
 * 504 with cause ResourceVersionTooLarge, on which clients list again, instead of a watch that
 * silently misses every event until the store's revision passes the old one.
 */
async function awaitRevision(store: Store, wanted: number): Promise<void> {
  if (!Number.isInteger(wanted) || wanted < 0) return; // refused with its message below
  const deadline = Date.now() + FUTURE_REVISION_WAIT_MS;
  let current = await store.revision();
  while (current < wanted && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    current = await store.revision();
  }
  if (current >= wanted) return;
  throw new HttpError(504, 'Timeout', `Too large resource version: ${wanted}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version', field: '' }],
    retryAfterSeconds: 1,
  });
}
