import { randomUUID } from 'node:crypto';
import { Selector } from '../../kube/label-selector';
import type { Store, StoredText, StoredValue, StoreScan } from '../store/store';
import { decodeStoredText, SCAN_PAGE_SIZE, StoreError } from '../store/store';
import { withEphemeralContainers } from './ephemeral-containers';
import { ItemPages, type Items } from './item-pages';
import { copyJson } from './json-copy';
import { sameContent } from './same-content';
import { FieldSelector } from './field-selector';
import { ListCaches, type CachedValue, type ListCache } from './list-cache';
import { apiVersionOf, type ResourceInfo } from './resources';
import { errors, HttpError } from './status';
import { inStoredOrder, storedTextHead, wireText, type WireText } from './wire-text';

export type Obj = Record<string, unknown> & { metadata?: Meta };
export interface Meta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { uid: string; kind: string; name: string; controller?: boolean }[];
  [k: string]: unknown;
}

export interface ListFilter {
  labelSelector?: Selector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continueToken?: string;
}

export interface ListResult {
  items: Obj[];
  resourceVersion: string;
  continueToken?: string;
  remaining?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** Computes the next object from the current one; throwing aborts the update. */
export type Mutation = (current: Obj) => Obj | Promise<Obj>;

export function storeKey(r: ResourceInfo, namespace: string | undefined, name = ''): string {
  const g = r.group || 'core';
  return r.namespaced && namespace !== undefined ? `/registry/${g}/${r.plural}/${namespace}/${name}` : `/registry/${g}/${r.plural}/${name}`;
}

/** Writes in Kubernetes' wire form: the store's revision becomes metadata.resourceVersion. */
export function withVersion(r: ResourceInfo, sv: Pick<StoredValue, 'value' | 'modRevision'>): Obj {
  const obj = (r.conversion ? r.conversion.fromStorage(sv.value) : sv.value) as Obj;
  obj.apiVersion = apiVersionOf(r);
  obj.kind = r.kind;
  obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(sv.modRevision) };
  return obj;
}

/** An object in the form the store keeps for its resource: the storage version's, in stored order (wire-text.ts). */
function stored(r: ResourceInfo, obj: Obj): Obj {
  return inStoredOrder(r.conversion ? (r.conversion.toStorage(obj) as Obj) : obj);
}

/** The resourceVersion an update asks for; "0" (or none) asks for an unconditional update, as the apiserver reads it. */
function wantedRevision(next: Obj): string | undefined {
  return next.metadata?.resourceVersion === '0' ? undefined : next.metadata?.resourceVersion;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Generic storage semantics for every resource: identity fields, optimistic concurrency,
 * generation, status/spec separation, graceful deletion and finalizers. Kind-specific rules
 * (defaults, validation, allocation) run before it in the handler.
 */
export class Registry {
  private readonly lists: ListCaches;

  constructor(private readonly store: Store) {
    this.lists = new ListCaches(store);
  }

  /** Ends the watches behind the list caches. */
  stop(): void {
    this.lists.stop();
  }

  async get(r: ResourceInfo, namespace: string | undefined, name: string): Promise<Obj> {
    const sv = await this.store.get(storeKey(r, namespace, name));
    if (!sv) throw errors.notFound({ ...r }, name);
    return withVersion(r, sv);
  }

  async find(r: ResourceInfo, namespace: string | undefined, name: string): Promise<Obj | undefined> {
    const sv = await this.store.get(storeKey(r, namespace, name));
    return sv ? withVersion(r, sv) : undefined;
  }

  /**
   * The object as a live list cache holds it (possibly a little behind the store), else as the
   * store does. For checks that read only what does not change once set (uids, a pod's
   * ServiceAccount and node): a copy `usable` refuses (unbound, another uid) is read again from
   * the store, and a missing one too, so only a copy that answers as the store would is used.
   */
  async findCached(r: ResourceInfo, namespace: string | undefined, name: string, usable: (obj: Obj) => boolean = () => true): Promise<Obj | undefined> {
    const key = storeKey(r, namespace, name);
    const cached = this.lists.existing(storeKey(r, undefined))?.latest(key);
    if (cached) {
      const obj = withVersion(r, { value: cached.value, modRevision: cached.modRevision });
      if (usable(obj)) return obj;
    }
    return this.find(r, namespace, name);
  }

  async list(r: ResourceInfo, namespace: string | undefined, filter: ListFilter = {}): Promise<ListResult> {
    const prefix = storeKey(r, namespace);
    const limit = filter.limit && filter.limit > 0 ? filter.limit : 0;
    let startAfter = filter.continueToken ? decodeContinue(filter.continueToken) : undefined;
    const cached = selective(filter) ? await this.lists.for(storeKey(r, undefined), r.kind)?.candidates(prefix, filter.labelSelector, filter.fieldSelector, startAfter) : undefined;
    if (cached) return pick(r, cached.items, String(cached.revision), filter, limit);
    const items: Obj[] = [];
    let revision = 0;
    // Scan in pages until `limit` matching items are found, as selectors are applied after reading.
    for (;;) {
      const page = await this.store.list(prefix, { limit: limit ? Math.max(limit * 2, 100) : 0, startAfter });
      if (!revision) revision = page.revision;
      for (const sv of page.items) {
        const obj = withVersion(r, sv);
        startAfter = sv.key;
        if (!matches(obj, filter)) continue;
        items.push(obj);
        if (limit && items.length === limit) {
          const more = page.more || page.items[page.items.length - 1].key !== sv.key;
          return { items, resourceVersion: String(revision), continueToken: more ? encodeContinue(sv.key) : undefined };
        }
      }
      if (!page.more) break;
    }
    return { items, resourceVersion: String(revision) };
  }

  /**
   * What a list without a limit or a continue token asks for, made a page at a time as the answer
   * is written when it is longer than WHOLE_ANSWER_MAX: without a selector from a store scan
   * (scan), with one from the list cache's candidates (its frozen objects as of one revision, so
   * the pages stay consistent however long the client takes). A selective list the cache cannot
   * answer is built at once from the store, as `list` builds it.
   */
  async listAll(r: ResourceInfo, namespace: string | undefined, filter: Pick<ListFilter, 'labelSelector' | 'fieldSelector'>): Promise<{ items: Items<Obj>; resourceVersion: string }> {
    if (!selective(filter)) return this.scan(r, namespace);
    const cached = await this.lists.for(storeKey(r, undefined), r.kind)?.candidates(storeKey(r, namespace), filter.labelSelector, filter.fieldSelector, undefined);
    if (!cached) return this.list(r, namespace, filter);
    const resourceVersion = String(cached.revision);
    if (cached.items.length <= WHOLE_ANSWER_MAX) return pick(r, cached.items, resourceVersion, filter, 0);
    let next = 0;
    const items = new ItemPages<Obj>(async () => {
      while (next < cached.items.length) {
        const page = pick(r, cached.items.slice(next, (next += SCAN_PAGE_SIZE)), resourceVersion, filter, 0).items;
        if (page.length > 0) return page;
      }
      return undefined;
    });
    return { items, resourceVersion };
  }

  /**
   * Every object of the resource (in a namespace) as of one revision, read from the store a page
   * at a time as the answer is written: a list without a selector or a limit, which at 100,000
   * pods would otherwise hold every object decoded at once (the master's heap ran out in one).
   * Up to WHOLE_ANSWER_MAX objects are read here, and a list that ends within them is answered
   * whole, at once, as before.
   */
  async scan(r: ResourceInfo, namespace: string | undefined): Promise<{ items: Items<Obj>; resourceVersion: string }> {
    return this.scanPages(r, namespace, async (scan) => (await scan.next())?.map((sv) => withVersion(r, sv)));
  }

  /**
   * listAll for an answer written as JSON (not a Table): a list without a selector has the
   * objects the store holds in stored order as their wire text (wire-text.ts), passed on without
   * decoding them. At 5,000 nodes the decoding and encoding of every object was most of what a
   * list of all nodes or of a namespace's 3,000 pods cost the master's one thread.
   */
  async listAllWire(r: ResourceInfo, namespace: string | undefined, filter: Pick<ListFilter, 'labelSelector' | 'fieldSelector'>): Promise<{ items: Items<Obj | WireText>; resourceVersion: string }> {
    const head = storedTextHead(r);
    if (selective(filter) || head === undefined) return this.listAll(r, namespace, filter);
    return this.scanPages(r, namespace, async (scan) => (await scan.nextText())?.map((st) => wireItem(r, head, st)));
  }

  /** list for an answer written as JSON: a page (limit, continue) without a selector has the store's objects as their wire text, as in listAllWire. */
  async listWire(r: ResourceInfo, namespace: string | undefined, filter: ListFilter = {}): Promise<{ items: (Obj | WireText)[]; resourceVersion: string; continueToken?: string }> {
    const head = storedTextHead(r);
    if (selective(filter) || head === undefined) return this.list(r, namespace, filter);
    const limit = filter.limit && filter.limit > 0 ? filter.limit : 0;
    const startAfter = filter.continueToken ? decodeContinue(filter.continueToken) : undefined;
    const page = await this.store.listText(storeKey(r, namespace), { limit, startAfter });
    const last = page.items.at(-1);
    return {
      items: page.items.map((st) => wireItem(r, head, st)),
      resourceVersion: String(page.revision),
      continueToken: limit && page.more && last ? encodeContinue(last.key) : undefined,
    };
  }

  /** A scan of the store's objects (in a namespace), each page made into items by readPage: whole when up to WHOLE_ANSWER_MAX, else a page at a time. */
  private async scanPages<T>(r: ResourceInfo, namespace: string | undefined, readPage: (scan: StoreScan) => Promise<T[] | undefined>): Promise<{ items: Items<T>; resourceVersion: string }> {
    const scan = await this.store.scan(storeKey(r, namespace));
    const resourceVersion = String(scan.revision);
    const read: T[][] = [];
    let count = 0;
    for (;;) {
      const page = await readPage(scan);
      if (!page) return { items: read.flat(), resourceVersion };
      read.push(page);
      count += page.length;
      if (page.length < SCAN_PAGE_SIZE) return { items: read.flat(), resourceVersion };
      if (count >= WHOLE_ANSWER_MAX) break;
    }
    const items = new ItemPages<T>(async () => read.shift() ?? (await readPage(scan)));
    return { items, resourceVersion };
  }

  /** uid: the caller's when defaulting already needed it (a Job's generated selector names it). */
  async create(r: ResourceInfo, namespace: string | undefined, obj: Obj, dryRun = false, uid: string = randomUUID()): Promise<Obj> {
    const meta = (obj.metadata ??= {});
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name) throw errors.invalid(r, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'name or generateName is required' }]);
    if (r.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    meta.uid = uid;
    meta.creationTimestamp = now();
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    obj.apiVersion = apiVersionOf(r);
    obj.kind = r.kind;
    if (dryRun) {
      if (await this.store.get(storeKey(r, namespace, meta.name))) throw errors.alreadyExists(r, meta.name);
      return obj;
    }
    try {
      const rev = await this.store.create(storeKey(r, namespace, meta.name), stored(r, obj));
      meta.resourceVersion = String(rev);
      return obj;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'AlreadyExists') {
        if (meta.generateName) return this.create(r, namespace, { ...obj, metadata: { ...meta, name: undefined } }, dryRun);
        throw errors.alreadyExists(r, meta.name);
      }
      throw err;
    }
  }

  /**
   * Read-modify-write with optimistic concurrency. A resourceVersion in the mutated object is a
   * precondition (409 Conflict when stale); without one the mutation is retried on races.
   */
  async update(r: ResourceInfo, namespace: string | undefined, name: string, mutate: Mutation, opts: { subresource?: string; dryRun?: boolean } = {}): Promise<Obj> {
    const key = storeKey(r, namespace, name);
    const cached = opts.dryRun ? undefined : this.updateCache(r)?.latest(key);
    const written = cached && (await this.updateFromCache(r, key, cached, mutate, opts.subresource));
    if (written) return written;
    for (let attempt = 0; attempt < 20; attempt++) {
      const sv = await this.store.get(key);
      if (!sv) throw errors.notFound(r, name);
      // The store's values are the caller's own (its contract): only the mutation needs a copy.
      const current = withVersion(r, sv);
      const next = await mutate(copyJson(current));
      const wanted = wantedRevision(next);
      if (wanted && wanted !== String(sv.modRevision)) throw errors.conflict(r, name);
      const merged = this.prepareUpdate(r, current, next, opts.subresource);
      if (sameContent(stripRv(merged), stripRv(current))) return current; // no-op writes keep the resourceVersion
      if (shouldFinalize(merged)) {
        if (opts.dryRun) return merged;
        return this.remove(r, key, name, sv.modRevision, merged);
      }
      if (opts.dryRun) return merged;
      try {
        return await this.writeAt(r, key, merged, sv.modRevision);
      } catch (err) {
        if (err instanceof StoreError && err.code === 'Conflict') {
          if (wanted) throw errors.conflict(r, name);
          continue;
        }
        if (err instanceof StoreError && err.code === 'NotFound') throw errors.notFound(r, name);
        throw err;
      }
    }
    throw errors.conflict(r, name);
  }

  /**
   * The list cache an update may start from. On etcd a read is a round trip, and starting from a
   * cache made for the purpose took a quarter off the master's CPU per Lease renewal (686 → 505
   * µs, bench/heartbeat.ts). On SQLite a read is an in-process lookup, cheaper than keeping a JSON
   * copy of every object current (+12-28 % per node status write), so only a cache that selective
   * lists made anyway is used. A Service's update claims and releases cluster IPs and node ports:
   * never decided on a copy.
   */
  private updateCache(r: ResourceInfo): ListCache | undefined {
    if (r.kind === 'Service') return undefined;
    const prefix = storeKey(r, undefined);
    return this.store.kind === 'etcd' ? this.lists.for(prefix, r.kind) : this.lists.existing(prefix);
  }

  /**
   * The update as a write conditional on the list cache's copy of the object, which saves the
   * store read of most updates (a node's Lease renewals and pod status writes are most of a
   * cluster's writes). Only a write the store accepts counts: when the copy was stale (the store
   * refused the revision) or anything else happened with it (the mutation refused it, a
   * precondition or a no-op was decided on it, the object is to be finalized), the caller starts
   * again from the store, so every answer but a write is decided on the stored object.
   */
  private async updateFromCache(r: ResourceInfo, key: string, cached: CachedValue, mutate: Mutation, subresource: string | undefined): Promise<Obj | undefined> {
    const current = withVersion(r, { value: cached.value, modRevision: cached.modRevision });
    let merged: Obj;
    try {
      const next = await mutate(copyJson(current));
      const wanted = wantedRevision(next);
      if (wanted && wanted !== String(cached.modRevision)) return undefined;
      merged = this.prepareUpdate(r, current, next, subresource);
    } catch {
      return undefined; // refused on a copy that may be stale: the store's object decides
    }
    if (sameContent(stripRv(merged), stripRv(current)) || shouldFinalize(merged)) return undefined;
    try {
      return await this.writeAt(r, key, merged, cached.modRevision);
    } catch (err) {
      if (err instanceof StoreError && (err.code === 'Conflict' || err.code === 'NotFound')) return undefined;
      throw err;
    }
  }

  /** Stores merged on the condition that the key is still at revision; merged with its new resourceVersion. */
  private async writeAt(r: ResourceInfo, key: string, merged: Obj, revision: number): Promise<Obj> {
    const rev = await this.store.update(key, stored(r, stripRv(merged)), revision);
    merged.metadata = { ...merged.metadata, resourceVersion: String(rev) };
    return merged;
  }

  async delete(r: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ obj: Obj; deleted: boolean }> {
    const key = storeKey(r, namespace, name);
    for (let attempt = 0; attempt < 20; attempt++) {
      const sv = await this.store.get(key);
      if (!sv) throw errors.notFound(r, name);
      const current = withVersion(r, sv);
      const meta = current.metadata ?? {};
      if (opts.preconditions?.uid && opts.preconditions.uid !== meta.uid) throw errors.conflict(r, name);
      if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== meta.resourceVersion) throw errors.conflict(r, name);
      const next = copyJson(current);
      const nm = (next.metadata ??= {});
      const finalizers = new Set(nm.finalizers ?? []);
      if (opts.propagationPolicy === 'Foreground') finalizers.add('foregroundDeletion');
      if (opts.propagationPolicy === 'Orphan') finalizers.add('orphan');
      const grace = this.gracePeriod(r, current, opts);
      if (finalizers.size === 0 && grace === 0 && !(r.kind === 'Namespace')) {
        if (opts.dryRun) return { obj: current, deleted: true };
        try {
          const removed = await this.remove(r, key, name, sv.modRevision, current);
          return { obj: removed, deleted: true };
        } catch (err) {
          if (err instanceof HttpError && err.code === 409) continue;
          throw err;
        }
      }
      // Graceful: mark and let the owner of the object (agent, GC, namespace controller) finish.
      nm.finalizers = finalizers.size ? [...finalizers] : undefined;
      if (!nm.finalizers) delete nm.finalizers;
      if (!nm.deletionTimestamp) {
        nm.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        nm.deletionGracePeriodSeconds = grace;
      } else if (grace < (nm.deletionGracePeriodSeconds ?? Infinity)) {
        nm.deletionGracePeriodSeconds = grace;
      }
      if (r.kind === 'Namespace') (next.status as Record<string, unknown>) = { ...(next.status as object), phase: 'Terminating' };
      if (opts.dryRun) return { obj: next, deleted: false };
      try {
        const rev = await this.store.update(key, stored(r, stripRv(next)), sv.modRevision);
        nm.resourceVersion = String(rev);
        return { obj: next, deleted: false };
      } catch (err) {
        if (err instanceof StoreError && err.code === 'Conflict') continue;
        throw err;
      }
    }
    throw errors.conflict(r, name);
  }

  private async remove(r: ResourceInfo, key: string, name: string, expected: number, last: Obj): Promise<Obj> {
    try {
      const { revision } = await this.store.delete(key, expected);
      last.metadata = { ...last.metadata, resourceVersion: String(revision) };
      return last;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'Conflict') throw errors.conflict(r, name);
      if (err instanceof StoreError && err.code === 'NotFound') throw errors.notFound(r, name);
      throw err;
    }
  }

  /** Pods on a node get the time to stop their containers; everything else goes at once. */
  private gracePeriod(r: ResourceInfo, current: Obj, opts: DeleteOptions): number {
    if (r.kind !== 'Pod') return 0;
    const spec = (current.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const status = (current.status ?? {}) as { phase?: string };
    if (!spec.nodeName || status.phase === 'Succeeded' || status.phase === 'Failed') return 0;
    if (opts.gracePeriodSeconds !== undefined) return Math.max(0, opts.gracePeriodSeconds);
    return spec.terminationGracePeriodSeconds ?? 30;
  }

  /** Keeps what an update may not change, and splits spec from status writes. */
  private prepareUpdate(r: ResourceInfo, current: Obj, next: Obj, subresource?: string): Obj {
    if (r.kind === 'Pod' && subresource === 'ephemeralcontainers') return withEphemeralContainers(current, next);
    const cm = current.metadata ?? {};
    const out: Obj = { ...next, apiVersion: apiVersionOf(r), kind: r.kind };
    const nm: Meta = { ...(next.metadata ?? {}) };
    for (const f of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (cm[f] === undefined) delete nm[f];
      else (nm as Record<string, unknown>)[f] = cm[f];
    }
    out.metadata = nm;
    const hasStatus = r.subresources.includes('status');
    if (hasStatus && subresource === 'status') {
      // A status write changes status (and metadata) only.
      for (const k of Object.keys(out)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) delete out[k];
      for (const [k, v] of Object.entries(current)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) out[k] = v;
    } else if (hasStatus && subresource !== 'status' && subresource !== 'binding' && r.kind !== 'Namespace') {
      // A binding sets spec.nodeName and the PodScheduled condition in one write; others keep status.
      if (current.status === undefined) delete out.status;
      else out.status = current.status;
    }
    const specChanged = !sameContent(current.spec, out.spec);
    if (specChanged && subresource !== 'status') nm.generation = (cm.generation ?? 1) + 1;
    return out;
  }
}

function shouldFinalize(obj: Obj): boolean {
  const m = obj.metadata ?? {};
  if (!m.deletionTimestamp || (m.finalizers ?? []).length > 0) return false;
  // A namespace goes once the namespace controller has emptied it and cleared spec.finalizers.
  if (obj.kind === 'Namespace') return (((obj.spec ?? {}) as { finalizers?: string[] }).finalizers ?? []).length === 0;
  return (m.deletionGracePeriodSeconds ?? 0) === 0;
}

function stripRv(obj: Obj): Obj {
  const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: meta };
}

/**
 * A list without a limit longer than this is answered a page at a time (Registry.scan, listAll);
 * a shorter one is read whole first. Reading a page inside the answer's encoding budget makes an
 * answer of a few hundred objects take more than one slice, and each further slice waits a turn
 * of the event loop: at 5,000 nodes a namespace's list of 600 pods went from 31 ms to 277 ms at
 * p50. Four pages bound what such a list holds decoded at once.
 */
export const WHOLE_ANSWER_MAX = 4 * SCAN_PAGE_SIZE;

/** True when a list wants every object its selectors match (no limit, no continue): what Registry.listAll is for. */
export function wantsEverything(filter: ListFilter): boolean {
  return !(filter.limit && filter.limit > 0) && !filter.continueToken;
}

/** A stored object as a JSON answer carries it: its wire text when the text allows (wire-text.ts), else decoded. */
function wireItem(r: ResourceInfo, head: string, st: StoredText): Obj | WireText {
  return wireText(head, st) ?? withVersion(r, decodeStoredText(st));
}

function selective(filter: ListFilter): boolean {
  return (filter.labelSelector !== undefined && !filter.labelSelector.isEmpty()) || (filter.fieldSelector !== undefined && !filter.fieldSelector.isEmpty());
}

/** The matching items among candidates in key order, up to limit, with a continue token when more may follow. */
function pick(r: ResourceInfo, candidates: CachedValue[], resourceVersion: string, filter: ListFilter, limit: number): ListResult {
  const items: Obj[] = [];
  for (const [i, cv] of candidates.entries()) {
    // The cached object's top level is this read's own, which withVersion changes; its parts are shared and frozen.
    const obj = withVersion(r, { value: cv.value, modRevision: cv.modRevision });
    if (!matches(obj, filter)) continue;
    items.push(obj);
    if (limit && items.length === limit) return { items, resourceVersion, continueToken: i < candidates.length - 1 ? encodeContinue(cv.key) : undefined };
  }
  return { items, resourceVersion };
}

function matches(obj: Obj, filter: ListFilter): boolean {
  if (filter.labelSelector && !filter.labelSelector.matches(obj.metadata?.labels)) return false;
  if (filter.fieldSelector && !filter.fieldSelector.matches(obj)) return false;
  return true;
}

export function encodeContinue(key: string): string {
  return Buffer.from(JSON.stringify({ v: 1, k: key })).toString('base64url');
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === 'string') return parsed.k;
  } catch {
    // fall through to the error below
  }
  throw errors.badRequest('the provided continue parameter is not valid: list again without it');
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}
