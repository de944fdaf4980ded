import type { ServerResponse } from 'node:http';
import type { Store, StoreEvent, StoreWatch, WatchTrigger } from '../store/store';
import { StoreError } from '../store/store';
import type { FieldSelector } from './field-selector';
import type { Selector } from '../../kube/label-selector';
import { storeKey, withVersion, type Obj } from './registry';
import { apiVersionOf, type ResourceInfo } from './resources';
import { errors, HttpError } from './status';
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

export interface WatchStats {
  opened(): void;
  closed(): void;
}

/**
 * Streams a watch as Kubernetes does: chunked JSON, one event per line; objects entering or
 * leaving the selector appear as ADDED / DELETED; BOOKMARKs carry the latest revision; a
 * compacted start revision ends with an ERROR event holding a 410 Status.
 */
export async function serveWatch(store: Store, w: WatchRequest, res: ServerResponse, stats: WatchStats): Promise<void> {
  const r = w.resource;
  const prefix = storeKey(r, w.namespace);
  const matching = new Set<string>();
  const matches = (obj: Obj): boolean =>
    (!w.labelSelector || w.labelSelector.matches(obj.metadata?.labels)) && (!w.fieldSelector || w.fieldSelector.matches(obj));
  let lastRevision = 0;
  const version = `${apiVersionOf(r)}/${r.kind}`;
  const stream = new WatchStream(res);
  const send = (type: string, object: unknown): void => {
    stream.write(JSON.stringify({ type, object }) + '\n');
  };
  /** For objects the store shares between watchers: encoded once for all of them. */
  const sendShared = (type: string, object: Obj): void => {
    stream.write(watchEventLine(type, object));
  };
  let from = 0;
  const fromList = w.resourceVersion === '' || w.resourceVersion === '0';
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
  stats.opened();
  if (fromList) {
    const list = await store.list(prefix).catch((err: unknown) => {
      stats.closed();
      throw err;
    });
    for (const sv of list.items) {
      const obj = withVersion(r, sv);
      if (!matches(obj)) continue;
      matching.add(sv.key);
      send('ADDED', obj);
    }
    from = list.revision;
  }
  lastRevision = from;

  await new Promise<void>((resolve) => {
    let watch: StoreWatch | undefined;
    let finished = false;
    // Called by the timeout, an error and the response's close, often more than one of them.
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      watch?.stop();
      stats.closed();
      stream.end();
      resolve();
    };
    const bookmarkTimer = setInterval(() => {
      if (!w.bookmarks) return;
      // A watch narrowed by a trigger hears of nothing else; the store's progress lets its bookmark
      // move on anyway, so a client that resumes (every few minutes) does not make the store read
      // every event since its last one. After the store's queued deliveries: nothing skipped.
      const progress = store.progress?.() ?? 0;
      setImmediate(() => {
        if (finished) return;
        lastRevision = Math.max(lastRevision, progress);
        send('BOOKMARK', { kind: r.kind, apiVersion: r.group ? `${r.group}/${r.version}` : r.version, metadata: { resourceVersion: String(lastRevision) } });
      });
    }, w.bookmarkIntervalMs);
    const timeout = setTimeout(finish, w.timeoutSeconds * 1000);
    res.on('close', finish);
    watch = store.watch(prefix, from, {
      onEvent: (ev: StoreEvent) => {
        lastRevision = ev.revision;
        const obj = objectOf(r, version, ev);
        const was = matching.has(ev.key);
        const now = ev.type !== 'DELETED' && matches(obj);
        if (ev.type === 'DELETED') {
          if (was || matches(obj)) sendShared('DELETED', obj);
          matching.delete(ev.key);
        } else if (now) {
          // The store's own type: a resumed watch cannot know what the client saw before it.
          matching.add(ev.key);
          sendShared(ev.type, obj);
        } else if (was) {
          matching.delete(ev.key);
          sendShared('DELETED', obj);
        }
      },
      onError: (err: Error) => {
        const gone = err instanceof StoreError && err.code === 'Gone';
        const status = gone
          ? errors.gone(`too old resource version: ${from} (${err.message})`).toStatus()
          : errors.internal(`watch ended: ${err.message}`).toStatus();
        send('ERROR', status);
        finish();
      },
    }, { trigger: triggerOf(w, matching) });
  });
}

/** Each event's object as each apiVersion shows it. */
const shown = new WeakMap<StoreEvent, Map<string, Obj>>();

/**
 * The object of an event in the wire form of r (version: its apiVersion/kind), made once per event and version and shared by
 * every watcher of that version (whose line cache keys on it): with thousands of watchers the
 * per-watcher work is a lookup. A copy, so the store's event value stays as stored.
 */
function objectOf(r: ResourceInfo, version: string, ev: StoreEvent): Obj {
  let byVersion = shown.get(ev);
  let obj = byVersion?.get(version);
  if (obj) return obj;
  obj = withVersion(r, { value: r.conversion ? ev.value : { ...ev.value }, modRevision: ev.revision });
  if (!byVersion) shown.set(ev, (byVersion = new Map()));
  byVersion.set(version, obj);
  return obj;
}

/**
 * The field value this watch is about, for the store to hand it only events of objects with it:
 * an agent's pods (spec.nodeName, immutable once bound) or one object by name. `held`: the keys
 * the initial list already sent, which the watch must see change or go.
 */
function triggerOf(w: WatchRequest, held: ReadonlySet<string>): WatchTrigger | undefined {
  if (!w.fieldSelector || w.resource.conversion) return undefined;
  const fields = w.resource.kind === 'Pod' && w.resource.group === '' ? ['spec.nodeName', 'metadata.name'] : ['metadata.name'];
  for (const field of fields) {
    const value = w.fieldSelector.exact(field);
    if (value !== undefined) return { field, value, held: [...held] };
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
