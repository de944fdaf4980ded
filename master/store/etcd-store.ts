import { circuitBreaker, ConsecutiveBreaker, handleWhen, retry } from 'cockatiel';
import { CallContext, Etcd3, GRPCInvalidArgumentError, GRPCResourceExhastedError, GRPCUnavailableError, IKeyValue, IRequestOp, ITxnResponse, Watcher } from 'etcd3';
import { guardEtcdWatchStreams } from './etcd-watch-guard';
import { goneError } from './gone-error';
import { SharedWatches } from './shared-watches';
import { WatchFanout } from './watch-fanout';
import { compareKeys, keyAfter, prefixEnd } from './key-range';
import { EtcdScan, type EtcdScanPage } from './etcd-scan';
import {
  decodeStoredText,
  ListOptions,
  ListResult,
  ListTextResult,
  SCAN_PAGE_SIZE,
  ScanOptions,
  Store,
  StoreError,
  StoreEvent,
  StoredText,
  StoredValue,
  StoreScan,
  StoreWatch,
  WatchHandlers,
  WatchOptions,
} from './store';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. `https://10.0.0.2:2379`; several for a multi-member cluster. */
  endpoints: string[];
  /** PEM contents (not paths) for TLS; `ca` alone gives server-authenticated TLS. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** Prepended to every key, so several lotse clusters (or tests) can share one etcd. Default ''. */
  keyPrefix?: string;
  /** How long to wait for a connection before a call fails; default 5 s. */
  dialTimeoutMs?: number;
  /** How long one call may take before it fails with StoreError('Timeout'); default 5 s. */
  callTimeoutMs?: number;
  /**
   * The same for a list (a range over a prefix); default 30 s, the SLO of a cluster-wide list.
   * Under load a list of every pod takes etcd seconds, and failing it at 5 s only sends the client
   * back to ask again.
   */
  listTimeoutMs?: number;
  /**
   * HTTP/2 flow-control window of the connection to etcd and of each of its streams; default
   * 16 MiB. gRPC's own 64 KiB let through about 64 KiB per turn of a busy event loop, shared by
   * every answer and the watch stream, so under a node burst the master's watches fell tens of
   * seconds behind the store (bench/etcd-watch-lag.ts); 0 keeps gRPC's default.
   */
  flowControlWindowBytes?: number;
}

const DEFAULT_FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;

/** Largest list response accepted from etcd (gRPC's own default is 4 MiB). */
const MAX_RESPONSE_BYTES = 1024 * 1024 * 1024;

/**
 * The etcd v3 backend. Keys map one-to-one (after keyPrefix) onto etcd keys, values are JSON,
 * and the store's revision is etcd's: every write here is a single-key transaction, so each
 * bumps the revision by exactly one, as the contract requires.
 */
export class EtcdStore implements Store {
  readonly kind = 'etcd' as const;
  private readonly client: Etcd3;
  private readonly keyPrefix: string;
  private readonly watches = new Set<EtcdWatch>();
  private readonly shared = new SharedWatches((prefix, from, handlers) => this.watchAlone(prefix, from, handlers));
  private closed = false;

  constructor(private readonly options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new Error('the etcd store needs at least one endpoint');
    guardEtcdWatchStreams();
    this.keyPrefix = options.keyPrefix ?? '';
    const tls = options.tls;
    const callTimeoutMs = options.callTimeoutMs ?? 5000;
    const listTimeoutMs = this.listLimit();
    this.client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: options.dialTimeoutMs ?? 5000,
      // A stalled etcd must not hold requests for the whole stall: every unary call has a deadline.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + (isPrefixRange(context) ? listTimeoutMs : callTimeoutMs) }),
      faultHandling: connectionFaultsOnly(),
      credentials: tls && { rootCertificate: tls.ca, certChain: tls.cert, privateKey: tls.key },
      // gRPC refuses responses over 4 MiB by default; a list of 10,000 pods is about 13 MiB.
      grpcOptions: { 'grpc.max_receive_message_length': MAX_RESPONSE_BYTES, ...flowControl(options.flowControlWindowBytes ?? DEFAULT_FLOW_CONTROL_WINDOW) },
    });
  }

  get(key: string): Promise<StoredValue | undefined> {
    return this.call('get', key, async () => {
      const res = await this.client.get(this.fullKey(key)).exec();
      return res.kvs.length > 0 ? this.toStoredValue(res.kvs[0]) : undefined;
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const { items, revision, more } = await this.listText(prefix, options);
    return { items: items.map(decodeStoredText), revision, more };
  }

  listText(prefix: string, options: ListOptions = {}): Promise<ListTextResult> {
    return this.call('list', prefix, async () => {
      const full = this.fullKey(prefix);
      const after = options.startAfter;
      const start = after !== undefined && compareKeys(after, prefix) >= 0 ? keyAfter(this.fullKey(after)) : rangeStart(full);
      let range = this.client.getAll().inRange({ start, end: prefixEnd(full) });
      if (options.limit && options.limit > 0) range = range.limit(options.limit);
      const res = await range.exec();
      return {
        items: res.kvs.map((kv) => this.toStoredText(kv)),
        revision: Number(res.header.revision),
        more: res.more,
      };
    }, this.listLimit());
  }

  async scan(prefix: string, options: ScanOptions = {}): Promise<StoreScan> {
    const size = options.pageSize ?? SCAN_PAGE_SIZE;
    const full = this.fullKey(prefix);
    const first = await this.scanPage(prefix, rangeStart(full), size);
    return new EtcdScan(first.revision, first, async (key, revision) => (await this.scanPage(prefix, keyAfter(this.fullKey(key)), size, revision)));
  }

  /** Up to `size` values under prefix from `start` on, at `revision` (or the current one). */
  private async scanPage(prefix: string, start: Buffer, size: number, revision?: number): Promise<EtcdScanPage & { revision: number }> {
    const subject = revision === undefined ? prefix : `${prefix} as of revision ${revision}`;
    try {
      return await this.call('scan', subject, async () => {
        let range = this.client.getAll().inRange({ start, end: prefixEnd(this.fullKey(prefix)) }).limit(size);
        if (revision !== undefined) range = range.revision(revision);
        const res = await range.exec();
        return { items: res.kvs.map((kv) => this.toStoredText(kv)), more: res.more, revision: Number(res.header.revision) };
      }, this.listLimit());
    } catch (err) {
      if (revision !== undefined && isCompactedError(err)) throw new StoreError('Gone', `cannot read ${subject}: etcd compacted that revision meanwhile; list again`);
      throw err;
    }
  }

  create(key: string, value: Record<string, unknown>): Promise<number> {
    const text = JSON.stringify(value);
    return this.call('create', key, async () => {
      const k = this.fullKey(key);
      const res = await this.client.if(k, 'Create', '==', 0).then(this.client.put(k).value(text)).commit();
      if (!res.succeeded) throw new StoreError('AlreadyExists', `key ${key} already exists`);
      return Number(res.header.revision);
    });
  }

  update(key: string, value: Record<string, unknown>, expectedRevision?: number): Promise<number> {
    const text = JSON.stringify(value);
    return this.call('update', key, async () => {
      const k = this.fullKey(key);
      const res = await this.guarded(k, expectedRevision, this.client.put(k).value(text)).commit();
      if (!res.succeeded) throw this.preconditionError(res, key, expectedRevision, 'update');
      return Number(res.header.revision);
    });
  }

  delete(key: string, expectedRevision?: number): Promise<{ revision: number; value: Record<string, unknown> }> {
    return this.call('delete', key, async () => {
      const k = this.fullKey(key);
      const remove: IRequestOp = { request_delete_range: { key: Buffer.from(k), prev_kv: true } };
      const res = await this.guarded(k, expectedRevision, remove).commit();
      if (!res.succeeded) throw this.preconditionError(res, key, expectedRevision, 'delete');
      const previous = res.responses[0].response_delete_range.prev_kvs[0];
      return { revision: Number(res.header.revision), value: parseValue(previous) };
    });
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers, options: WatchOptions = {}): StoreWatch {
    if (this.closed) return WatchFanout.failSoon(handlers, new StoreError('Unavailable', 'the etcd store is closed'));
    return this.shared.watch(prefix, fromRevision, handlers, options) ?? this.watchAlone(prefix, fromRevision, handlers);
  }

  /** A watch with an etcd watch of its own (the shared one on its prefix starts later than it). */
  private watchAlone(prefix: string, fromRevision: number, handlers: WatchHandlers): StoreWatch {
    const watch = new EtcdWatch(this, prefix, fromRevision, handlers, () => this.watches.delete(watch));
    this.watches.add(watch);
    void watch.start();
    // An etcd watch of its own hands each event to the handler as its response is read: nothing waits here.
    return { stop: () => watch.stop(), catchUp: () => undefined };
  }

  revision(): Promise<number> {
    return this.call('read the revision of', '', async () => {
      const res = await this.client.get(rangeStart(this.fullKey(''))).exec();
      return Number(res.header.revision);
    });
  }

  async probe(): Promise<void> {
    // A linearizable read needs a quorum, as a write does, without bumping the revision.
    await this.revision();
  }

  compact(revision: number): Promise<void> {
    return this.call('compact', `revision ${revision}`, async () => {
      try {
        await this.client.kv.compact({ revision: String(revision), physical: false });
      } catch (err) {
        // Compacting to an already compacted revision is a no-op, as in the SQLite store.
        if (isCompactedError(err)) return;
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.fail(new StoreError('Unavailable', 'the etcd store was closed'));
    this.client.close();
  }

  /** Watchers currently registered (for /metrics). */
  get watchCount(): number {
    return this.watches.size;
  }

  // --- used by EtcdWatch ---

  fullKey(key: string): string {
    return this.keyPrefix + key;
  }

  shortKey(raw: Buffer): string {
    return raw.toString('utf8').slice(this.keyPrefix.length);
  }

  get etcd(): Etcd3 {
    return this.client;
  }

  /** True when etcd no longer has the history at `revision` (it was compacted). */
  async isCompacted(revision: number): Promise<boolean> {
    if (revision <= 0) return false;
    try {
      await this.client.get(rangeStart(this.fullKey(''))).revision(revision).exec();
      return false;
    } catch (err) {
      return isCompactedError(err);
    }
  }

  toStoredText(kv: IKeyValue): StoredText {
    return { key: this.shortKey(kv.key), text: kv.value.toString('utf8'), modRevision: Number(kv.mod_revision), createRevision: Number(kv.create_revision) };
  }

  toStoredValue(kv: IKeyValue): StoredValue {
    return decodeStoredText(this.toStoredText(kv));
  }

  // --- internals ---

  /** A transaction that runs `op` only if the key exists (and is at expectedRevision), else reads it. */
  private guarded(k: string, expectedRevision: number | undefined, op: IRequestOp | { op(): Promise<IRequestOp> }) {
    const txn =
      expectedRevision === undefined
        ? this.client.if(k, 'Create', '>', 0)
        : this.client.if(k, 'Mod', '==', expectedRevision);
    return txn.then(op).else(this.client.get(k));
  }

  private preconditionError(res: ITxnResponse, key: string, expected: number | undefined, verb: string): StoreError {
    const current = res.responses[0]?.response_range?.kvs?.[0];
    if (!current) return new StoreError('NotFound', `cannot ${verb} ${key}: it does not exist`);
    return new StoreError(
      'Conflict',
      `cannot ${verb} ${key}: expected revision ${expected} but it is at ${current.mod_revision}; read it again and retry`,
    );
  }

  /**
   * Runs one call within the call deadline, turning failures into StoreErrors with context:
   * Timeout (etcd did not answer in time), TooLarge (etcd refused the request's size) or
   * Unavailable (anything else from the transport).
   */
  private async call<T>(verb: string, subject: string, fn: () => Promise<T>, limit = this.options.callTimeoutMs ?? 5000): Promise<T> {
    if (this.closed) throw new StoreError('Unavailable', `cannot ${verb} ${subject}: the etcd store is closed`);
    let timer: NodeJS.Timeout | undefined;
    // The gRPC deadline covers the call itself; this also bounds waiting for a connection.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreError('Timeout', `cannot ${verb} ${subject}: etcd at ${this.options.endpoints.join(',')} did not answer within ${limit} ms; is it overloaded or stopped?`)), limit);
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw this.describe(verb, subject, err, limit);
    } finally {
      clearTimeout(timer);
    }
  }

  private listLimit(): number {
    return this.options.listTimeoutMs ?? 30_000;
  }

  private describe(verb: string, subject: string, err: unknown, limit: number): StoreError {
    const where = `etcd at ${this.options.endpoints.join(',')}`;
    if (isTooLarge(err)) return new StoreError('TooLarge', `cannot ${verb} ${subject}: ${where} refused the request as too large (${String(err)}); etcd's default limit is 1.5 MiB per request`);
    if (/DEADLINE/i.test(String(err))) return new StoreError('Timeout', `cannot ${verb} ${subject}: ${where} did not answer within ${limit} ms; is it overloaded or stopped?`);
    const hint = /UNAVAILABLE|ECONNREFUSED|connect|handshake|certificate/i.test(String(err))
      ? '; is etcd up, and are the endpoints and TLS files right?'
      : '';
    return new StoreError('Unavailable', `cannot ${verb} ${subject} in ${where}: ${String(err)}${hint}`);
  }
}

/** A read of a key range (a list) rather than of one key: it gets the list deadline. */
function isPrefixRange(context: CallContext): boolean {
  return context.service === 'KV' && context.method === 'range' && context.params.range_end !== undefined && context.params.range_end !== null;
}

/**
 * etcd3's default policies retry and count toward a circuit breaker every "recoverable" error,
 * RESOURCE_EXHAUSTED (a request over etcd's size limit) and DEADLINE_EXCEEDED included: one
 * oversized write then made every call fail for 5 s. Only a lost connection says something about
 * the host; the breaker and the retry look at that alone and half-open after 1 s.
 */
function connectionFaultsOnly(): { host: () => ReturnType<typeof circuitBreaker>; global: ReturnType<typeof retry> } {
  const lostConnection = handleWhen((err) => err instanceof GRPCUnavailableError);
  return {
    host: () => circuitBreaker(lostConnection, { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
    global: retry(lostConnection, { maxAttempts: 1 }),
  };
}

function isTooLarge(err: unknown): boolean {
  if (err instanceof GRPCResourceExhastedError) return true;
  return err instanceof GRPCInvalidArgumentError && /request is too large/i.test(String(err));
}

/** One store watch over an etcd3 watcher, with Gone detection and gap-free resumption. */
class EtcdWatch {
  private watcher: Watcher | undefined;
  private stopped = false;
  private lastDelivered: number;

  constructor(
    private readonly store: EtcdStore,
    private readonly prefix: string,
    private readonly fromRevision: number,
    private readonly handlers: WatchHandlers,
    private readonly onEnd: () => void,
  ) {
    this.lastDelivered = fromRevision;
  }

  async start(): Promise<void> {
    try {
      // etcd's own watch only refuses start revisions below the compaction point; asking for
      // the history at fromRevision makes "compacted at R" mean the same here as in SQLite.
      if (await this.store.isCompacted(this.fromRevision)) {
        this.fail(goneError(this.fromRevision, undefined));
        return;
      }
      if (this.stopped) return;
      const full = this.store.fullKey(this.prefix);
      const watcher = await this.store.etcd
        .watch()
        .inRange({ start: rangeStart(full), end: prefixEnd(full) })
        .startRevision(String(this.fromRevision + 1))
        .withPreviousKV()
        .create();
      this.watcher = watcher;
      if (this.stopped) {
        void watcher.cancel();
        return;
      }
      watcher.on('put', (kv) => this.deliver(kv, undefined));
      watcher.on('delete', (kv, previous) => this.deliver(kv, previous ?? null));
      // etcd3 resumes after a reconnect from the revision in the last response header, which can
      // be past events of a catch-up it had not sent yet; resume from what was delivered instead.
      watcher.on('disconnected', () => (watcher.request.start_revision = String(this.lastDelivered + 1)));
      watcher.on('error', (err) => void this.onWatcherError(err));
    } catch (err) {
      this.fail(new StoreError('Unavailable', `cannot watch ${this.prefix} in etcd: ${String(err)}`));
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onEnd();
    if (this.watcher) void this.watcher.cancel().catch(() => undefined);
  }

  fail(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.handlers.onError(err);
  }

  /** `previous` is undefined for a put, the prior value (or null if etcd sent none) for a delete. */
  private deliver(kv: IKeyValue, previous: IKeyValue | null | undefined): void {
    if (this.stopped) return;
    const revision = Number(kv.mod_revision);
    if (revision <= this.lastDelivered) return;
    this.lastDelivered = revision;
    const key = this.store.shortKey(kv.key);
    let event: StoreEvent;
    if (previous === undefined) {
      const type = kv.create_revision === kv.mod_revision ? 'ADDED' : 'MODIFIED';
      event = { type, key, value: parseValue(kv), revision };
    } else {
      event = { type: 'DELETED', key, value: previous ? parseValue(previous) : {}, revision };
    }
    try {
      this.handlers.onEvent(event);
    } catch (err) {
      this.fail(new Error(`watch handler for prefix "${this.prefix}" threw at revision ${revision}: ${String(err)}`));
    }
  }

  private async onWatcherError(err: Error): Promise<void> {
    if (this.stopped) return;
    // etcd cancels a watch with an empty reason when its start revision is compacted; tell that
    // apart from other failures by asking for the history we still need.
    const gone = await this.store.isCompacted(this.lastDelivered).catch(() => false);
    this.fail(gone ? goneError(this.lastDelivered, undefined) : new StoreError('Unavailable', `etcd ended the watch on ${this.prefix}: ${String(err)}`));
  }
}

/** etcd rejects an empty key; NUL is the smallest key there is. */
function rangeStart(fullPrefix: string): Buffer {
  return fullPrefix === '' ? Buffer.from([0]) : Buffer.from(fullPrefix, 'utf8');
}

function parseValue(kv: IKeyValue): Record<string, unknown> {
  try {
    return JSON.parse(kv.value.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new StoreError('Unavailable', `etcd key ${kv.key.toString()} does not hold JSON (was it written by something else?): ${String(err)}`);
  }
}

function isCompactedError(err: unknown): boolean {
  return /compacted/i.test(String(err));
}

function flowControl(bytes: number): Record<string, number> {
  return bytes > 0 ? { 'grpc-node.flow_control_window': bytes } : {};
}
