import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../master/api/registry';
import { SqliteStore } from '../../master/store/sqlite-store';

/** A Registry over a fresh SQLite store for each test of the calling describe block. */
export interface SqliteRegistry {
  store: SqliteStore;
  registry: Registry;
}

/** Registers beforeEach/afterEach that open and remove the store; read the fields inside tests. */
export function useSqliteRegistry(name: string): SqliteRegistry {
  const current = {} as SqliteRegistry & { dir: string };
  beforeEach(() => {
    current.dir = mkdtempSync(join(tmpdir(), `lotse-${name}-`));
    current.store = new SqliteStore(join(current.dir, 'state.db'));
    current.registry = new Registry(current.store);
  });
  afterEach(async () => {
    current.registry.stop();
    await current.store.close();
    rmSync(current.dir, { recursive: true, force: true });
  });
  return current;
}
