/**
 * The master's persistence contract. Two backends implement it (embedded SQLite, etcd v3) and
 * both must pass test/master/store/conformance.ts.
 *
 * Keys are plain strings (the API layer uses `/registry/<resource>/<namespace>/<name>`).
 * Values are JSON-serialisable objects. The store owns revisions: every write bumps one global,
 * strictly increasing revision, and the API layer exposes it as metadata.resourceVersion.
 */

export interface StoredValue {
  key: string;
  value: Record<string, unknown>;
  /** Revision of the last write to this key (etcd's mod_revision). */
  modRevision: number;
  /** Revision of the write that created this key (etcd's create_revision). */
  createRevision: number;
}

/**
 * A stored value as the JSON text the store holds, not decoded: what a list answer can hand on
 * as it is (Registry.listAllWire, listWire), where decoding and encoding again cost most of a large list.
 */
export interface StoredText {
  key: string;
  /** The value's JSON text, as written (JSON.stringify of the value the write was given). */
  text: string;
  modRevision: number;
  createRevision: number;
}

export interface ListOptions {
  /** At most this many items; 0 or undefined means all. */
  limit?: number;
  /** Return keys strictly greater than this one (the continue token of a chunked list). */
  startAfter?: string;
}

export interface ListResult {
  items: StoredValue[];
  /** The store's revision the list was read at. */
  revision: number;
  /** True when more keys under the prefix follow the last returned one. */
  more: boolean;
}

/** A list's result with each value as its stored JSON text (Store.listText). */
export interface ListTextResult extends Omit<ListResult, 'items'> {
  items: StoredText[];
}

/**
 * Every value under a prefix as of one revision, handed out a page at a time: what a list too
 * large to hold decoded at once is answered from. Each page is read or decoded when it is asked
 * for, and the values are still those of `revision` however long the reader takes between pages,
 * until the store compacts that revision. Then etcd's next page throws StoreError('Gone'); SQLite
 * keeps, for each scan not yet read to its end, the value a write replaces while the scan still
 * needs it, so its pages stay exact whatever the compaction.
 */
export interface StoreScan {
  /** The revision every value is as of. */
  readonly revision: number;
  /** The next page in key order (at most the scan's page size), or undefined after the last. */
  next(): Promise<StoredValue[] | undefined>;
  /** The next page as next() gives it, with each value as its stored JSON text, not decoded. */
  nextText(): Promise<StoredText[] | undefined>;
}

export interface ScanOptions {
  /** Values per page; default SCAN_PAGE_SIZE. */
  pageSize?: number;
}

/** A page of a scan: large enough that a page costs little per value, small enough to be a few hundred KB decoded. */
export const SCAN_PAGE_SIZE = 250;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  key: string;
  /** For DELETED: the last value before the delete. */
  value: Record<string, unknown>;
  /** The revision of this event (for DELETED, the revision of the delete). */
  revision: number;
}

export interface StoreWatch {
  stop(): void;
  /**
   * Hands the watcher, before returning, every event this process has already received for it
   * (in revision order, as the handler would get them later). Delivery is otherwise a turn of the
   * event loop after the commit, and a busy master's turn takes hundreds of milliseconds: an
   * in-process cache that must reflect every acknowledged write before it answers calls this
   * instead of waiting for that turn. On SQLite that is every committed write, so the watcher is
   * then at the store's revision; on etcd only what the watch response already carried.
   */
  catchUp(): void;
}

/**
 * What one watcher cares about: only values whose field (a dotted path into the stored value,
 * read as a field selector reads it: '' when absent) equals value. An agent watching the pods of
 * its node says so, and a store with thousands of such watchers hands each pod event to one of
 * them instead of to all (kube-apiserver's watch cache indexes pods by spec.nodeName the same way).
 */
export interface WatchTrigger {
  field: string;
  value: string;
  /** Keys the watcher already has with that value (from a list it sent first): they count as delivered. */
  held?: string[];
}

export interface WatchOptions {
  /**
   * A hint: the store may leave out events whose value does not have the trigger's value, except
   * for keys it delivered with that value before, so the watcher still sees them change or go.
   * The watcher must still filter what it gets.
   */
  trigger?: WatchTrigger;
}

export interface WatchHandlers {
  onEvent(event: StoreEvent): void;
  /** Called once when the watch cannot go on (compacted revision, backend lost); the watch is then over. */
  onError(err: Error): void;
}

export interface Store {
  readonly kind: 'sqlite' | 'etcd';
  /** get and list hand out values the caller owns: a fresh decode per call, never shared. */
  get(key: string): Promise<StoredValue | undefined>;
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** The list `list` reads, with each value as its stored JSON text, not decoded. */
  listText(prefix: string, options?: ListOptions): Promise<ListTextResult>;
  /** Every value under prefix at the store's current revision, a page at a time (see StoreScan). */
  scan(prefix: string, options?: ScanOptions): Promise<StoreScan>;
  /** Throws StoreError('AlreadyExists') when the key exists. Returns the new revision. */
  create(key: string, value: Record<string, unknown>): Promise<number>;
  /**
   * Replaces the value. With expectedRevision, throws StoreError('Conflict') unless the key's
   * modRevision equals it. Throws StoreError('NotFound') when the key does not exist.
   */
  update(key: string, value: Record<string, unknown>, expectedRevision?: number): Promise<number>;
  /** Throws NotFound / Conflict as update does. Returns the revision of the delete and the last value. */
  delete(key: string, expectedRevision?: number): Promise<{ revision: number; value: Record<string, unknown> }>;
  /**
   * Every event under prefix with revision > fromRevision, in revision order, none lost or
   * duplicated. fromRevision older than the compacted revision: onError(StoreError('Gone')).
   */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers, options?: WatchOptions): StoreWatch;
  /** The store's current revision. */
  revision(): Promise<number>;
  /**
   * Optional: the revision up to which every event has been handed to the store's watchers, read
   * without a round trip. A watcher's pending deliveries are then queued in a setImmediate, so
   * whatever runs in a setImmediate queued after this call comes after them. A watch with a
   * trigger gets no events for other keys; its BOOKMARKs carry this so the client resumes from
   * here rather than from its last event (a resumed watch reads the store's log from where it
   * resumes). A store that cannot tell (etcd: its watch stream trails its writes) leaves it out.
   */
  progress?(): number;
  /**
   * Throws unless the store can serve a write now: SQLite commits a write that changes no
   * revision, etcd answers a quorum read. Backs /readyz.
   */
  probe(): Promise<void>;
  /** Forgets history at and below revision; watches from there get Gone. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** Timeout: no answer within the call deadline. TooLarge: the backend refused the value's size. */
export type StoreErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone' | 'Unavailable' | 'Timeout' | 'TooLarge';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** A stored text decoded into the value it holds; StoreError('Unavailable') when it is not JSON (written by something else). */
export function decodeStoredText(st: StoredText): StoredValue {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(st.text) as Record<string, unknown>;
  } catch (err) {
    throw new StoreError('Unavailable', `the value of ${st.key} is not JSON (was it written by something else?): ${String(err)}`);
  }
  return { key: st.key, value, modRevision: st.modRevision, createRevision: st.createRevision };
}
