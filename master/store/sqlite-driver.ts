/**
 * The SQLite engine under the SQLite store, chosen by availability: Node's built-in `node:sqlite`
 * when the runtime has it (Node 22.13+/23.4+ unflagged, without a warning from Node 24 on; the hosts
 * run Node 24), else the better-sqlite3 native addon (Node 20 on developer machines and CI). Both
 * are synchronous and speak the same SQL, so the store sees one small interface.
 */

export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

/** A prepared statement; positional `?` parameters, rows as plain objects with numbers. */
export interface SqliteStatement {
  get(...params: SqliteParam[]): unknown;
  all(...params: SqliteParam[]): unknown[];
  run(...params: SqliteParam[]): void;
}

/** Keys' range ends are bytes (Uint8Array), compared as SQLite compares BLOBs cast to TEXT. */
export type SqliteParam = string | number | null | Uint8Array;

export interface SqliteDatabase {
  readonly driver: SqliteDriverName;
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

export interface OpenSqliteOptions {
  /** How long to wait for another connection's lock before failing. */
  timeoutMs: number;
  /** Forces one driver (tests); default: node:sqlite when available, else better-sqlite3. */
  driver?: SqliteDriverName;
}

/** The shape of `node:sqlite` this file uses; declared here because Node 20's types lack the module. */
interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { timeout?: number }) => {
    exec(sql: string): void;
    prepare(sql: string): { get(...p: SqliteParam[]): unknown; all(...p: SqliteParam[]): unknown[]; run(...p: SqliteParam[]): unknown };
    close(): void;
  };
}

/** The driver `openSqliteDatabase` picks on this runtime. */
export function availableSqliteDriver(): SqliteDriverName {
  return loadNodeSqlite() ? 'node:sqlite' : 'better-sqlite3';
}

export function openSqliteDatabase(path: string, options: OpenSqliteOptions): SqliteDatabase {
  const driver = options.driver ?? availableSqliteDriver();
  return driver === 'node:sqlite' ? openNodeSqlite(path, options.timeoutMs) : openBetterSqlite(path, options.timeoutMs);
}

/**
 * `process.getBuiltinModule` (Node 22.3+) rather than an import: Node 20 has no such module, and a
 * static import would also make bundlers try to resolve it. Node 22 before 22.13 needs
 * --experimental-sqlite and then has no module; that counts as unavailable.
 */
function loadNodeSqlite(): NodeSqliteModule | undefined {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (!getBuiltin) return undefined;
  try {
    const mod = getBuiltin('node:sqlite') as NodeSqliteModule | undefined;
    return mod && typeof mod.DatabaseSync === 'function' ? mod : undefined;
  } catch {
    return undefined;
  }
}

function openNodeSqlite(path: string, timeoutMs: number): SqliteDatabase {
  const mod = loadNodeSqlite();
  if (!mod) throw new Error(`node:sqlite is not available in Node ${process.version}; it needs Node 22.13 or later (lotse hosts run Node 24)`);
  const db = new mod.DatabaseSync(path, { timeout: timeoutMs });
  return {
    driver: 'node:sqlite',
    exec: (sql) => db.exec(sql),
    prepare: (sql) => {
      const statement = db.prepare(sql);
      return {
        get: (...params) => statement.get(...params),
        all: (...params) => statement.all(...params),
        run: (...params) => void statement.run(...params),
      };
    },
    close: () => db.close(),
  };
}

function openBetterSqlite(path: string, timeoutMs: number): SqliteDatabase {
  // Required only when chosen: on hosts the bundle's better-sqlite3 is a stand-in without the addon.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(path, { timeout: timeoutMs });
  return {
    driver: 'better-sqlite3',
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => {
      const statement = db.prepare(sql);
      return {
        get: (...params) => statement.get(...params),
        all: (...params) => statement.all(...params),
        run: (...params) => void statement.run(...params),
      };
    },
    close: () => void db.close(),
  };
}
