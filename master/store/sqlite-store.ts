import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { goneError } from './gone-error';
import { compareKeys, prefixEnd } from './key-range';
import { openSqliteDatabase, SqliteDatabase, SqliteDriverName } from './sqlite-driver';
import { SqliteScan, type ScanKey, type ScanRow } from './sqlite-scan';
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
  StoredValue,
  StoreScan,
  StoreWatch,
  WatchEventType,
  WatchHandlers,
  WatchOptions,
} from './store';
import { WatchFanout } from './watch-fanout';

export interface SqliteStoreOptions {
  /**
   * FULL (default) fsyncs the WAL at every commit, so a kill -9 or power loss never loses an
   * acknowledged write. NORMAL survives a kill -9 of the process (the WAL is in the page cache)
   * but may lose the last commits on power loss; it is offered for benchmarks and throwaway dev
   * clusters only.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Forces one SQLite engine (tests); by default node:sqlite when the runtime has it, else better-sqlite3. */
  driver?: SqliteDriverName;
}

/** What a write checks of the key's row. */
type RevisionRow = Pick<KvRow, 'mod_revision'>;

interface KvRow {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
}

interface LogRow {
  revision: number;
  key: string;
  type: WatchEventType;
  value: string;
}

/** One queued write; `apply` runs inside the batch transaction and throws StoreError before writing. */
interface PendingWrite {
  apply(): StoreEvent;
  resolve(event: StoreEvent): void;
  reject(err: unknown): void;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    create_revision INTEGER NOT NULL,
    mod_revision INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS log (
    revision INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
  CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/**
 * A watch's backlog is read by revision (every write since, filtered by key) when it is at most
 * this many revisions behind; further behind, a namespace's or an object's backlog is read
 * through the (key, revision) index instead. The log keeps at least 5 minutes of writes: at
 * 5,000 nodes (~1,000 writes/s) an agent's ConfigMap watch resuming 10 s behind read 10,000
 * rows of every kind for none of its own, 13.8 GB of reads in the first six minutes.
 */
const BACKLOG_BY_REVISION_MAX = 1_000;

/**
 * How long a queued write waits for its group commit while the event loop is still busy with other
 * callbacks: past it, the next write commits the batch at once. One turn of a busy master's loop
 * reads and handles hundreds of requests before its commit, and each of their writes waited for
 * the whole turn: at 1,000 hollow nodes 133 ms (p50) of a Lease renewal's 166 ms. A commit costs
 * about a millisecond with its fsync, so this bounds the commits to ~50 a second more.
 */
const GROUP_COMMIT_MAX_WAIT_MS = 20;

/**
 * Compaction deletes the log in transactions of at most this many revisions, with a turn of the
 * event loop between them: at 5,000 nodes a minute's history is ~60,000 rows, and one DELETE of
 * them held the loop for 1.1 s.
 */
const COMPACT_CHUNK_REVISIONS = 1_000;

/**
 * The embedded store: one SQLite file in WAL mode owned by exactly one master process
 * (locking_mode=EXCLUSIVE makes a second opener fail instead of silently missing watch events).
 *
 * Writes are group-committed: every write queued during one event-loop turn (or, in a long turn,
 * GROUP_COMMIT_MAX_WAIT_MS of it) goes into one transaction with one fsync, and each is
 * acknowledged only after that commit. A failing precondition (Conflict, NotFound,
 * AlreadyExists) rejects only its own write, because each write checks before it changes anything.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: SqliteDatabase;
  private readonly fanout = new WatchFanout();
  private readonly stmt: ReturnType<typeof prepareStatements>;
  private currentRevision: number;
  private compactedRevision: number;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  /** When the oldest write of `pending` was queued (performance.now()). */
  private pendingSince = 0;
  private closed = false;
  /** Scans not yet read to their end, which may need a value before a write replaces it. */
  private readonly scans = new Set<WeakRef<SqliteScan>>();

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    this.db = openDatabase(path, options.synchronous ?? 'FULL', options.driver);
    this.stmt = prepareStatements(this.db);
    this.currentRevision = this.readMeta('revision');
    this.compactedRevision = this.readMeta('compacted');
  }

  async get(key: string): Promise<StoredValue | undefined> {
    this.assertOpen('get');
    const row = this.stmt.get.get(key) as KvRow | undefined;
    return row && toStoredValue(row);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const { items, revision, more } = await this.listText(prefix, options);
    return { items: items.map(decodeStoredText), revision, more };
  }

  async listText(prefix: string, options: ListOptions = {}): Promise<ListTextResult> {
    this.assertOpen('list');
    const limit = options.limit && options.limit > 0 ? options.limit : -1;
    const after = options.startAfter;
    const useAfter = after !== undefined && compareKeys(after, prefix) >= 0;
    const statement = useAfter ? this.stmt.listAfter : this.stmt.listFrom;
    const rows = statement.all(useAfter ? after : prefix, prefixEnd(prefix), limit < 0 ? -1 : limit + 1) as KvRow[];
    const more = limit >= 0 && rows.length > limit;
    if (more) rows.length = limit;
    return { items: rows.map((row) => ({ key: row.key, text: row.value, modRevision: row.mod_revision, createRevision: row.create_revision })), revision: this.currentRevision, more };
  }

  async scan(prefix: string, options: ScanOptions = {}): Promise<StoreScan> {
    this.assertOpen('scan');
    const keys = this.stmt.scanKeys.all(prefix, prefixEnd(prefix)) as ScanKey[];
    const reader = {
      rowsBetween: (first: string, last: string) => this.stmt.rowsBetween.all(first, last) as ScanRow[],
      assertOpen: (verb: string) => this.assertOpen(verb),
    };
    const scan = new SqliteScan(reader, prefix, this.currentRevision, keys, options.pageSize ?? SCAN_PAGE_SIZE);
    // Held weakly: a scan whose reader left (an answer cut off) is collected, and with it what it kept.
    if (!scan.finished) this.scans.add(new WeakRef(scan));
    return scan;
  }

  /** Scans the store still hands earlier values to: read to their end or collected ones leave at the next write (for tests and diagnostics). */
  get openScans(): number {
    return this.scans.size;
  }

  /**
   * Hands the value `key` has at modRevision to every open scan that still needs it, before a
   * write replaces it: a scan reads each value as it is when its page comes, and the history
   * (5 minutes) may no longer hold what the key had at the scan's revision. Every update and
   * delete calls it; a scan relies on that (SqliteScan.textOf).
   */
  private preserveForScans(key: string, modRevision: number, value?: string): void {
    if (this.scans.size === 0) return;
    let text = value;
    for (const ref of this.scans) {
      const scan = ref.deref();
      if (!scan || scan.finished) {
        this.scans.delete(ref);
        continue;
      }
      if (!scan.needs(key, modRevision)) continue;
      text ??= (this.stmt.get.get(key) as KvRow).value;
      scan.preserve(key, text);
    }
  }

  async create(key: string, value: Record<string, unknown>): Promise<number> {
    const text = serialize(key, value);
    const event = await this.enqueue(() => {
      if (this.stmt.revisionOf.get(key)) throw new StoreError('AlreadyExists', `key ${key} already exists`);
      const revision = this.nextRevision();
      this.stmt.insertKv.run(key, text, revision, revision);
      return this.logEvent(revision, key, 'ADDED', text);
    });
    return event.revision;
  }

  async update(key: string, value: Record<string, unknown>, expectedRevision?: number): Promise<number> {
    const text = serialize(key, value);
    const event = await this.enqueue(() => {
      // Only the revision: reading the row would copy out the whole stored value to compare a number.
      const row = checkRow(this.stmt.revisionOf.get(key) as RevisionRow | undefined, key, expectedRevision, 'update');
      this.preserveForScans(key, row.mod_revision);
      const revision = this.nextRevision();
      this.stmt.updateKv.run(text, revision, key);
      return this.logEvent(revision, key, 'MODIFIED', text);
    });
    return event.revision;
  }

  async delete(key: string, expectedRevision?: number): Promise<{ revision: number; value: Record<string, unknown> }> {
    const event = await this.enqueue(() => {
      const row = checkRow(this.stmt.get.get(key) as KvRow | undefined, key, expectedRevision, 'delete');
      this.preserveForScans(key, row.mod_revision, row.value);
      const revision = this.nextRevision();
      this.stmt.deleteKv.run(key);
      return this.logEvent(revision, key, 'DELETED', row.value);
    });
    return { revision: event.revision, value: event.value };
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers, options: WatchOptions = {}): StoreWatch {
    if (this.closed) return WatchFanout.failSoon(handlers, new StoreError('Unavailable', 'the SQLite store is closed'));
    if (fromRevision < this.compactedRevision) {
      return WatchFanout.failSoon(handlers, goneError(fromRevision, this.compactedRevision));
    }
    // Reading the backlog and registering happen in one synchronous step and commits are
    // synchronous too, so no commit can fall between them; the fanout still dedupes by revision.
    const rows = this.backlog(prefix, fromRevision);
    return this.fanout.add(prefix, fromRevision, rows.map(toEvent), handlers, options.trigger);
  }

  async revision(): Promise<number> {
    this.assertOpen('revision');
    return this.currentRevision;
  }

  /** A commit hands its events to the fan-out in the same synchronous step that moves the revision. */
  progress(): number {
    return this.currentRevision;
  }

  async probe(): Promise<void> {
    // Through the write queue and its commit, so a full disk or a lost file shows here as it
    // would for a real write; the meta row changes no revision and reaches no watch.
    await this.enqueue(() => {
      this.stmt.setMeta.run('probe', Date.now());
      return { type: 'MODIFIED', key: '', value: {}, revision: 0 };
    });
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen('compact');
    if (revision > this.currentRevision) {
      throw new Error(`cannot compact the SQLite store to revision ${revision}: the current revision is ${this.currentRevision}`);
    }
    while (this.compactedRevision < revision) {
      // A watch from below the chunk's end is refused (Gone) from the same step that deletes it.
      const upTo = Math.min(revision, this.compactedRevision + COMPACT_CHUNK_REVISIONS);
      inTransaction(this.db, () => {
        this.stmt.compactLog.run(upTo);
        this.stmt.setMeta.run('compacted', upTo);
      });
      this.compactedRevision = upTo;
      if (upTo < revision) await new Promise((resolve) => setImmediate(resolve));
      this.assertOpen('compact');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.fanout.failAll(new StoreError('Unavailable', 'the SQLite store was closed'));
    this.db.close();
  }

  /** The SQLite engine in use: node:sqlite on hosts (Node 24), better-sqlite3 on Node 20. */
  get driver(): SqliteDriverName {
    return this.db.driver;
  }

  /** Watchers currently registered (for /metrics). */
  get watchCount(): number {
    return this.fanout.size;
  }

  private enqueue(apply: () => StoreEvent): Promise<StoreEvent> {
    if (this.closed) return Promise.reject(new StoreError('Unavailable', 'the SQLite store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ apply, resolve, reject });
      if (this.pending.length === 1) this.pendingSince = performance.now();
      else if (performance.now() - this.pendingSince >= GROUP_COMMIT_MAX_WAIT_MS) return this.flush();
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    });
  }

  /** Commits every queued write in one transaction, then acknowledges and publishes them. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const startRevision = this.currentRevision;
    const outcomes: ({ event: StoreEvent } | { error: unknown })[] = [];
    try {
      inTransaction(this.db, () => {
        for (const write of batch) outcomes.push(applyOne(write));
        if (this.currentRevision !== startRevision) this.stmt.setMeta.run('revision', this.currentRevision);
      });
    } catch (err) {
      this.currentRevision = startRevision;
      const failure = new StoreError('Unavailable', `SQLite commit to ${this.path} failed, nothing was written: ${String(err)}`);
      for (const write of batch) write.reject(failure);
      return;
    }
    const events: StoreEvent[] = [];
    outcomes.forEach((outcome, i) => {
      if ('event' in outcome) {
        if (outcome.event.revision > 0) events.push(outcome.event); // a probe is no event
        batch[i].resolve(outcome.event);
      } else {
        batch[i].reject(outcome.error);
      }
    });
    this.fanout.publish(events);
  }

  /**
   * The log rows under prefix after fromRevision, in revision order. Through the key index only
   * for a prefix below a whole resource (a namespace's, an object's): the whole resource's keys
   * or every key would visit more of the index than the revision range holds rows.
   */
  private backlog(prefix: string, fromRevision: number): LogRow[] {
    const narrow = prefix.split('/').filter(Boolean).length >= 4;
    if (narrow && this.currentRevision - fromRevision > BACKLOG_BY_REVISION_MAX) {
      return this.stmt.backlogByKey.all(prefix, prefixEnd(prefix), fromRevision) as LogRow[];
    }
    return this.stmt.backlog.all(fromRevision, prefix, prefixEnd(prefix)) as LogRow[];
  }

  private nextRevision(): number {
    this.currentRevision += 1;
    return this.currentRevision;
  }

  private logEvent(revision: number, key: string, type: WatchEventType, text: string): StoreEvent {
    this.stmt.insertLog.run(revision, key, type, text);
    return { type, key, value: JSON.parse(text) as Record<string, unknown>, revision };
  }

  private readMeta(name: string): number {
    const row = this.stmt.getMeta.get(name) as { value: number } | undefined;
    return row?.value ?? 0;
  }

  private assertOpen(verb: string): void {
    if (this.closed) throw new StoreError('Unavailable', `cannot ${verb}: the SQLite store ${this.path} is closed`);
  }
}

function applyOne(write: PendingWrite): { event: StoreEvent } | { error: unknown } {
  try {
    return { event: write.apply() };
  } catch (err) {
    // Preconditions fail before anything is written; anything else aborts the whole batch.
    if (err instanceof StoreError) return { error: err };
    throw err;
  }
}

/** Runs `body` in one transaction: committed when it returns, rolled back when it throws. */
function inTransaction(db: SqliteDatabase, body: () => void): void {
  db.exec('BEGIN');
  try {
    body();
    db.exec('COMMIT');
  } catch (err) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // A failed COMMIT may already have rolled back; the original error is the one to report.
    }
    throw err;
  }
}

/**
 * How much of the store's file SQLite reads through a memory map instead of its page cache. A
 * pod's JSON (3-4 KB) does not fit in a 4 KB page of the kv table's B-tree, so each row read
 * walks a chain of overflow pages, each copied through SQLite's pager: reading every row
 * of a file of 30,000 such rows took ~500 ms of CPU in SQLite alone, ~125-200 ms through the map.
 * Measured at 5,000 nodes and 30,000 pods (bench/full-list.ts): the master's CPU for lists
 * 0.66-0.80 of what it was. The pages are the file's own (the kernel's page cache, which a
 * memory cgroup charges whether it is mapped or read, reclaimable, never written through the
 * map), so once read they count in the master's RSS as file-backed memory (RssFile), not memory
 * it allocates. That store was 358 MB; a file larger than 1 GiB keeps its tail on ordinary reads.
 * An I/O error while reading through the map stops the process (SIGBUS) instead of failing one
 * read: a store on a disk that fails reads cannot serve anyway, and systemd restarts the master.
 */
const MMAP_BYTES = 2 ** 30;

function openDatabase(path: string, synchronous: 'FULL' | 'NORMAL', driver: SqliteDriverName | undefined): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    ownerOnly(path);
    // Fail fast when another process holds the file rather than waiting the default 5 s.
    db = openSqliteDatabase(path, { timeoutMs: 500, driver });
  } catch (err) {
    throw new Error(`cannot open the SQLite store at ${path}: ${String(err)}; check that its folder exists and is writable`);
  }
  try {
    // EXCLUSIVE before WAL: no shared-memory index, and a second process cannot open it.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${synchronous}`);
    db.exec(`PRAGMA mmap_size = ${MMAP_BYTES}`);
    db.exec(SCHEMA);
    // SQLite gives its WAL (and -shm) the database's mode; an older store may have others.
    for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  } catch (err) {
    db.close();
    const busy = /locked|busy/i.test(String(err));
    const hint = busy ? 'another lotse master (or process) holds it; stop that one first' : 'is it a lotse store?';
    throw new Error(`cannot use the SQLite store at ${path}: ${String(err)}; ${hint}`);
  }
  return db;
}

/**
 * The store holds Secrets: the file is the owner's alone wherever --store puts it, created so
 * before SQLite opens it (an empty file is an empty database) rather than narrowed after.
 */
function ownerOnly(path: string): void {
  if (existsSync(path)) chmodSync(path, 0o600);
  else closeSync(openSync(path, 'wx', 0o600));
}

function prepareStatements(db: SqliteDatabase) {
  const columns = 'key, value, create_revision, mod_revision';
  return {
    get: db.prepare(`SELECT ${columns} FROM kv WHERE key = ?`),
    revisionOf: db.prepare('SELECT mod_revision FROM kv WHERE key = ?'),
    listFrom: db.prepare(
      `SELECT ${columns} FROM kv WHERE key >= ? AND key < CAST(? AS TEXT) ORDER BY key LIMIT ?`,
    ),
    listAfter: db.prepare(
      `SELECT ${columns} FROM kv WHERE key > ? AND key < CAST(? AS TEXT) ORDER BY key LIMIT ?`,
    ),
    scanKeys: db.prepare('SELECT key, create_revision, mod_revision FROM kv WHERE key >= ? AND key < CAST(? AS TEXT) ORDER BY key'),
    rowsBetween: db.prepare(`SELECT ${columns} FROM kv WHERE key >= ? AND key <= ? ORDER BY key`),
    insertKv: db.prepare('INSERT INTO kv (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?)'),
    updateKv: db.prepare('UPDATE kv SET value = ?, mod_revision = ? WHERE key = ?'),
    deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
    insertLog: db.prepare('INSERT INTO log (revision, key, type, value) VALUES (?, ?, ?, ?)'),
    backlog: db.prepare(
      'SELECT revision, key, type, value FROM log WHERE revision > ? AND key >= ? AND key < CAST(? AS TEXT) ORDER BY revision',
    ),
    backlogByKey: db.prepare(
      'SELECT revision, key, type, value FROM log INDEXED BY log_key_revision WHERE key >= ? AND key < CAST(? AS TEXT) AND revision > ? ORDER BY revision',
    ),
    compactLog: db.prepare('DELETE FROM log WHERE revision <= ?'),
    getMeta: db.prepare('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
  };
}

function serialize(key: string, value: Record<string, unknown>): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new Error(`cannot store ${key}: its value is not JSON-serialisable: ${String(err)}`);
  }
}

/** row (the key's, read by the caller) after checking the key exists and is at expectedRevision. */
function checkRow<R extends RevisionRow>(row: R | undefined, key: string, expectedRevision: number | undefined, verb: string): R {
  if (!row) throw new StoreError('NotFound', `cannot ${verb} ${key}: it does not exist`);
  if (expectedRevision !== undefined && row.mod_revision !== expectedRevision) {
    throw new StoreError(
      'Conflict',
      `cannot ${verb} ${key}: expected revision ${expectedRevision} but it is at ${row.mod_revision}; read it again and retry`,
    );
  }
  return row;
}

function toStoredValue(row: KvRow): StoredValue {
  return {
    key: row.key,
    value: JSON.parse(row.value) as Record<string, unknown>,
    modRevision: row.mod_revision,
    createRevision: row.create_revision,
  };
}

function toEvent(row: LogRow): StoreEvent {
  return { type: row.type, key: row.key, value: JSON.parse(row.value) as Record<string, unknown>, revision: row.revision };
}
