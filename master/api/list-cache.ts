import type { Selector } from '../../kube/label-selector';
import { PrefixMirror } from '../store/prefix-mirror';
import type { Store, StoredValue } from '../store/store';
import type { FieldSelector } from './field-selector';
import { deepFreeze } from '../../kube/deep-freeze';
import { ObjectIndex } from './object-index';

/** An object as the cache holds it: what a list item is built from. */
export interface CachedValue extends Pick<StoredValue, 'key' | 'modRevision'> {
  /**
   * The object, its top level the caller's own (withVersion sets apiVersion, kind and metadata
   * there); everything below it is shared with the cache and frozen: copy a part before changing it.
   */
  readonly value: StoredValue['value'];
}

/**
 * The cache keeps the object the store's watch delivered, frozen, rather than a copy of it: the
 * controllers' informers hold the same event's spec and status (master/api/store-list-watch.ts).
 * Only managedFields is kept apart, as JSON text: decoded, its field sets are dozens of small
 * objects per pod, many with keys of their own (`k:{"ip":"10.244.3.7"}`, each a V8 hidden class),
 * which cost more heap than the pod's whole JSON text, and the informers drop them anyway. A
 * selective list returns a few objects and parses only theirs.
 */
class CachedObject implements CachedValue {
  private readonly object: StoredValue['value'];
  /** metadata.managedFields as JSON, or undefined when the object has none. */
  private readonly managedFields: string | undefined;

  constructor(
    readonly key: string,
    value: StoredValue['value'],
    readonly modRevision: number,
  ) {
    const meta = value.metadata as Record<string, unknown> | undefined;
    if (meta?.managedFields === undefined) {
      this.object = deepFreeze(value);
      return;
    }
    this.managedFields = JSON.stringify(meta.managedFields);
    // The key stays, undefined, so a read puts managedFields back where it was in metadata.
    this.object = deepFreeze({ ...value, metadata: { ...meta, managedFields: undefined } });
  }

  get value(): StoredValue['value'] {
    if (this.managedFields === undefined) return { ...this.object };
    const meta = this.object.metadata as Record<string, unknown>;
    return { ...this.object, metadata: { ...meta, managedFields: JSON.parse(this.managedFields) as unknown } };
  }
}

/** The objects a selective list has to look at, in key order, as of one store revision. */
export interface Candidates {
  items: CachedValue[];
  revision: number;
}

/**
 * The objects of one resource in memory, indexed by label and by a few fields, for lists with a
 * label or field selector (kube-apiserver serves them from its watch cache the same way): such a
 * list then costs what it returns, not a parse of every object of the namespace. A list waits
 * until the cache has seen every write made before it, so it reads its own writes as a store
 * read would; when the cache cannot tell (its watch broke, or it lags more than CATCH_UP_MS)
 * the caller reads the store instead.
 */
/**
 * How long a list waits for the cache to catch up before it reads the store: kube-apiserver's
 * consistent reads from its watch cache wait 3 s too. Under load a lagging cache catches up within
 * that, while a fallback is a full scan of the resource that adds to the load which made it lag
 * (the density bench on etcd answered spec.nodeName lists with 504 after 5 s that way).
 */
const CATCH_UP_MS = 3_000;

export class ListCache extends PrefixMirror {
  private readonly objects = new Map<string, CachedValue>();
  private readonly index: ObjectIndex;

  /** prefix: where the resource's objects are in the store; kind: which of its fields are indexed. */
  constructor(store: Store, prefix: string, kind: string) {
    super(store, prefix, () => undefined, CATCH_UP_MS);
    this.index = new ObjectIndex(kind);
  }

  /**
   * The objects under keyPrefix (a namespace's, or the resource's) after startAfter that the
   * selectors may match, or undefined when the cache cannot answer consistently now.
   */
  async candidates(keyPrefix: string, labels: Selector | undefined, fields: FieldSelector | undefined, startAfter: string | undefined): Promise<Candidates | undefined> {
    try {
      await this.ready();
    } catch {
      return undefined; // the store's own list reports what went wrong
    }
    if (!(await this.caughtUp())) return undefined;
    const keys: string[] = [];
    for (const key of this.index.candidates(labels, fields) ?? this.objects.keys()) {
      if (key.startsWith(keyPrefix) && (startAfter === undefined || key > startAfter)) keys.push(key);
    }
    keys.sort();
    return { items: keys.map((k) => this.objects.get(k) as CachedValue), revision: this.reached() };
  }

  /**
   * The object at key as the cache holds it once it took what the store already queued for it,
   * without waiting for more: a guess at the current object for a read-modify-write, which the
   * store's revision check on the write confirms (kube-apiserver's GuaranteedUpdate starts from
   * its watch cache's object the same way). Undefined when the cache has no live copy of the
   * resource (it then starts loading one).
   */
  latest(key: string): CachedValue | undefined {
    if (!this.live()) return undefined;
    // A copy a turn behind the store is refused by the write and read again: an agent's pod status
    // writes follow each other that closely.
    this.takeQueued();
    return this.objects.get(key);
  }

  protected clear(): void {
    this.objects.clear();
    this.index.clear();
  }

  protected put(key: string, value: Record<string, unknown> | undefined, revision: number): void {
    if (value) this.objects.set(key, new CachedObject(key, value, revision));
    else this.objects.delete(key);
    this.index.put(key, value);
  }
}

/**
 * Resources whose selective lists are not cached: Events are many, short-lived and mostly listed
 * by kubectl describe, so holding every one in memory would cost more than their scans.
 */
const UNCACHED = new Set(['/registry/core/events/', '/registry/events.k8s.io/events/']);

/** One ListCache per resource, made on the first selective list of that resource (on etcd, or its first update). */
export class ListCaches {
  private readonly caches = new Map<string, ListCache>();

  constructor(private readonly store: Store) {}

  /** The cache of the resource stored under prefix (storeKey without a namespace), of that kind. */
  for(prefix: string, kind: string): ListCache | undefined {
    if (UNCACHED.has(prefix)) return undefined;
    let cache = this.caches.get(prefix);
    if (!cache) this.caches.set(prefix, (cache = new ListCache(this.store, prefix, kind)));
    return cache;
  }

  /** The cache of the resource under prefix if a list made one already. */
  existing(prefix: string): ListCache | undefined {
    return this.caches.get(prefix);
  }

  stop(): void {
    for (const cache of this.caches.values()) cache.stop();
    this.caches.clear();
  }
}
