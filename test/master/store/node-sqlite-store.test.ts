import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableSqliteDriver } from '../../../master/store/sqlite-driver';
import { SqliteStore } from '../../../master/store/sqlite-store';
import { describeStoreConformance } from './conformance';

// The store on Node's built-in node:sqlite, as the hosts run it. This machine's Node 20 has no
// node:sqlite, so here the suite checks the fallback; node24-store.test.ts runs this same file
// under the official Node 24 build, where the conformance suite below runs.
const hasNodeSqlite = availableSqliteDriver() === 'node:sqlite';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lotse-node-sqlite-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function freshPath(): string {
  counter += 1;
  return join(dir, `store-${counter}.db`);
}

if (hasNodeSqlite) {
  describeStoreConformance('node:sqlite', async () => {
    const store = new SqliteStore(freshPath(), { driver: 'node:sqlite' });
    expect(store.driver).toBe('node:sqlite');
    return store;
  });

  describe('node:sqlite store', () => {
    test('is the driver chosen by default, and data written by it reopens', async () => {
      const path = freshPath();
      const first = new SqliteStore(path);
      expect(first.driver).toBe('node:sqlite');
      const revision = await first.create('/p/a', { v: 1 });
      await first.close();
      const second = new SqliteStore(path);
      expect(await second.revision()).toBe(revision);
      expect((await second.get('/p/a'))?.value).toEqual({ v: 1 });
      expect(() => new SqliteStore(path)).toThrow(/another lotse master/);
      await second.close();
    });
  });
} else {
  describe('SQLite driver on a runtime without node:sqlite', () => {
    test('falls back to better-sqlite3, and asking for node:sqlite says which Node it needs', async () => {
      expect(Number(process.versions.node.split('.')[0])).toBeLessThan(23);
      const store = new SqliteStore(freshPath());
      expect(store.driver).toBe('better-sqlite3');
      await store.close();
      expect(() => new SqliteStore(freshPath(), { driver: 'node:sqlite' })).toThrow(/node:sqlite is not available in Node v20.*Node 22\.13 or later/);
    });
  });
}
