import { ApiError } from '../../kube/api-error';
import type { ListQuery, WatchHandle, WatchQuery } from '../../kube/client';
import type { ListWatch } from '../../kube/list-watch';
import type { KubeList, KubeObject, WatchEvent } from '../../kube/object';
import type { ResourceRef } from '../../kube/resource-path';
import { StoreError, type Store, type StoreEvent, type StoreWatch } from '../store/store';
import { storeKey, withVersion, type Obj } from './registry';
import { apiVersionOf, findResource, isStored, type ResourceInfo } from './resources';

/**
 * The master's own controllers read the API's store directly, as the objects the API serves
 * (withVersion), instead of through a loopback HTTPS watch: no TLS, HTTP framing, JSON encoding
 * and parsing of every event for a reader in the same process, and the watch events' decoded
 * values are shared with the store's other watchers instead of parsed once more. Their parts are
 * shared, so readers must not change them (SharedInformers freezes them).
 *
 * Only what reads the same either way is served here: a built-in resource kept in its storage
 * version, all of it or one namespace, without selectors. Anything else (custom resources,
 * converted versions, selective or paged lists, a watch without a resourceVersion) goes to remote.
 * Writes never come here: they take the API's whole path (admission, validation, field ownership).
 */
export class StoreListWatch implements ListWatch {
  constructor(
    private readonly store: Store,
    private readonly remote: ListWatch,
  ) {}

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, query: ListQuery = {}): Promise<KubeList<T>> {
    const r = servedHere(ref, query);
    if (!r) return this.remote.list<T>(ref, query);
    const page = await this.store.list(storeKey(r, ref.namespace));
    return {
      apiVersion: apiVersionOf(r),
      kind: `${r.kind}List`,
      metadata: { resourceVersion: String(page.revision) },
      items: page.items.map((sv) => asWire<T>(withVersion(r, sv))),
    };
  }

  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, query: WatchQuery, onEvent: (event: WatchEvent<T>) => void, onError: (err: Error) => void = () => undefined): WatchHandle {
    const r = servedHere(ref, query);
    const from = Number(query.resourceVersion);
    if (!r || !Number.isSafeInteger(from) || from <= 0) return this.remote.watch<T>(ref, query, onEvent, onError);
    let watch: StoreWatch | undefined;
    let ended = false;
    let markDone!: () => void;
    const done = new Promise<void>((resolve) => (markDone = resolve));
    const end = (): void => {
      if (ended) return;
      ended = true;
      watch?.stop();
      markDone();
    };
    watch = this.store.watch(storeKey(r, ref.namespace), from, {
      onEvent: (ev) => {
        if (!ended) onEvent({ type: ev.type, object: asWire<T>(eventObject(r, ev)) });
      },
      onError: (err) => {
        if (ended) return;
        onError(asApiError(err, from));
        end();
      },
    });
    // The store may refuse at once (a compacted revision), before watch was assigned.
    if (ended) watch.stop();
    return { stop: end, done };
  }
}

/** The resource when ref and query read the same from the store as from the API, else undefined. */
function servedHere(ref: ResourceRef, query: ListQuery): ResourceInfo | undefined {
  if (ref.name || ref.subresource || query.labelSelector || query.fieldSelector || query.limit || query.continue) return undefined;
  const r = findResource(ref.group, ref.version, ref.resource);
  if (!r || r.conversion || !isStored(r)) return undefined;
  if (!r.namespaced && ref.namespace) return undefined;
  return r;
}

/**
 * The event's object as the API's watch sends it. Its own top level and metadata (an informer's
 * transform may drop managedFields); spec and status are the event's, shared with other watchers.
 */
function eventObject(r: ResourceInfo, ev: StoreEvent): Obj {
  return withVersion(r, { value: { ...ev.value }, modRevision: ev.revision });
}

/** The API's object as the client-side type of the same JSON. */
function asWire<T extends KubeObject>(obj: Obj): T {
  return obj as unknown as T;
}

/** What the API's watch would have said: a compacted revision is 410 Gone (the informer lists again). */
function asApiError(err: Error, from: number): Error {
  if (err instanceof StoreError && err.code === 'Gone') return new ApiError(410, 'Expired', `too old resource version: ${from} (${err.message})`);
  return new ApiError(500, 'InternalError', `watch ended: ${err.message}`);
}
