import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildSync, stop as stopEsbuild } from 'esbuild';
import { Compactor } from '../../../master/store/compactor';
import { SqliteStore } from '../../../master/store/sqlite-store';
import { StoreError } from '../../../master/store/store';
import { describeStoreConformance, EventLog } from './conformance';

let dir: string;
let opened: SqliteStore[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lotse-sqlite-store-'));
});
afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
  opened = [];
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  // esbuild keeps a service process (and a worker thread) alive; in-band runs would never exit.
  stopEsbuild();
});

let fileCounter = 0;
function freshPath(): string {
  fileCounter += 1;
  return join(dir, `store-${fileCounter}.db`);
}
function openAt(path: string): SqliteStore {
  const store = new SqliteStore(path);
  opened.push(store);
  return store;
}

describeStoreConformance('sqlite', async () => new SqliteStore(freshPath()));

describe('sqlite store persistence', () => {
  test('revision, data, history and compaction survive a reopen', async () => {
    const path = freshPath();
    const first = new SqliteStore(path);
    const r1 = await first.create('/p/a', { v: 1 });
    const r2 = await first.update('/p/a', { v: 2 });
    const r3 = await first.create('/p/b', { v: 3 });
    await first.compact(r1);
    await first.close();

    const second = openAt(path);
    expect(await second.revision()).toBe(r3);
    expect((await second.get('/p/a'))?.value).toEqual({ v: 2 });
    const history = new EventLog();
    history.watch(second, '/p/', r1);
    await history.waitForRevision(r3);
    expect(history.events.map((event) => event.revision)).toEqual([r2, r3]);
    const gone = new EventLog();
    gone.watch(second, '/p/', r1 - 1);
    await gone.waitForError();
    expect((gone.errors[0] as StoreError).code).toBe('Gone');
    expect(await second.create('/p/c', {})).toBe(r3 + 1);
  });

  test('a compaction of thousands of revisions deletes in chunks with turns of the event loop between them, and forgets exactly up to the revision asked', async () => {
    const path = freshPath();
    const store = openAt(path);
    const revisions = await Promise.all(Array.from({ length: 2_600 }, (_, i) => store.create(`/k/${i}`, { v: i })));
    const head = Math.max(...revisions);
    const upTo = head - 5;
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await store.compact(upTo);
    ticking = false;
    // At least 2,595 revisions in chunks of 1,000: the loop ran between the chunks.
    expect(turns).toBeGreaterThanOrEqual(2);
    const gone = new EventLog();
    gone.watch(store, '/k/', upTo - 1);
    await gone.waitForError();
    expect((gone.errors[0] as StoreError).code).toBe('Gone');
    const kept = new EventLog();
    kept.watch(store, '/k/', upTo);
    await kept.waitForRevision(head);
    expect(kept.events.map((event) => event.revision)).toEqual([upTo + 1, upTo + 2, upTo + 3, upTo + 4, upTo + 5]);
    await store.close();
    const reopened = openAt(path);
    const stillGone = new EventLog();
    stillGone.watch(reopened, '/k/', upTo - 1);
    await stillGone.waitForError();
    expect((stillGone.errors[0] as StoreError).code).toBe('Gone');
  });

  test("a watch far behind gets its namespace's or object's backlog (read through the key index) exactly as one close behind", async () => {
    const store = openAt(freshPath());
    const start = await store.revision();
    const keys = ['/registry/core/configmaps/a/x', '/registry/core/configmaps/b/y', '/registry/core/pods/a/p', '/registry/core/configmaps/a/z', '/registry/core/configmaps/ab/w'];
    const written: { key: string; revision: number; type: string }[] = [];
    for (let i = 0; i < 1_600; i++) {
      const key = keys[i % keys.length];
      const revision = i < keys.length ? await store.create(key, { i }) : i === 1_200 ? (await store.delete(key)).revision : await store.update(key, { i });
      written.push({ key, revision, type: i < keys.length ? 'ADDED' : i === 1_200 ? 'DELETED' : 'MODIFIED' });
      if (i === 1_200) written.push({ key, revision: await store.create(key, { again: i }), type: 'ADDED' });
    }
    const last = await store.revision();
    // 1,600 and 300 revisions behind: the first reads through the index, the second by revision.
    for (const from of [start, last - 300]) {
      for (const prefix of ['/registry/core/configmaps/a/', '/registry/core/configmaps/a/x', '/registry/core/configmaps/', '/']) {
        const log = new EventLog();
        const watch = log.watch(store, prefix, from);
        const want = written.filter((w) => w.revision > from && w.key.startsWith(prefix));
        await log.waitForRevision(want[want.length - 1].revision);
        watch.stop();
        expect(log.events.map((e) => [e.key, e.revision, e.type])).toEqual(want.map((w) => [w.key, w.revision, w.type]));
      }
    }
  });

  test('a second process-level opener of the same file is refused with a clear error', () => {
    const path = freshPath();
    const owner = openAt(path);
    expect(owner.kind).toBe('sqlite');
    expect(() => new SqliteStore(path)).toThrow(/another lotse master/);
  });

  test('catchUp hands a watcher every acknowledged write at once, and the drain a turn later repeats none', async () => {
    const store = openAt(freshPath());
    const log = new EventLog();
    const watch = log.watch(store, '/c/', await store.revision());
    const other = new EventLog();
    other.watch(store, '/c/', await store.revision());
    const created = await store.create('/c/a', { v: 1 });
    const [updated, added] = await Promise.all([store.update('/c/a', { v: 2 }), store.create('/c/b', { v: 3 })]);
    expect(log.events.map((event) => event.revision)).not.toContain(added); // delivery is otherwise the fan-out's next turn
    watch.catchUp();
    expect(log.events.map((event) => [event.revision, event.value])).toEqual([[created, { v: 1 }], [updated, { v: 2 }], [added, { v: 3 }]]);
    await other.waitForRevision(added);
    expect(other.events.map((event) => event.revision)).toEqual([created, updated, added]);
    expect(log.events.map((event) => event.revision)).toEqual([created, updated, added]);
  });

  test('in a long turn of the event loop, a write commits the writes queued 20 ms or more before it, without waiting for the turn to end', async () => {
    const store = openAt(freshPath());
    const start = await store.revision();
    const first = store.create('/t/a', { v: 1 });
    const second = store.create('/t/b', { v: 2 });
    expect(store.progress()).toBe(start); // queued for the commit at the end of the turn
    const busyUntil = performance.now() + 25;
    while (performance.now() < busyUntil); // the rest of a busy turn: other requests being handled
    const third = store.create('/t/c', { v: 3 });
    expect(store.progress()).toBe(start + 3);
    await expect(Promise.all([first, second, third])).resolves.toEqual([start + 1, start + 2, start + 3]);
    const fourth = store.create('/t/d', { v: 4 });
    expect(store.progress()).toBe(start + 3); // a new batch waits again
    await expect(fourth).resolves.toBe(start + 4);
    expect((await store.list('/t/')).items.map((sv) => sv.value)).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }, { v: 4 }]);
  });

  test('a scan read to its end, and one its reader dropped, no longer receive the values writes replace', async () => {
    const store = openAt(freshPath());
    for (let i = 0; i < 4; i++) await store.create(`/s/${i}`, { i });
    const read = await store.scan('/s/', { pageSize: 2 });
    while (await read.next());
    await (async () => {
      const dropped = await store.scan('/s/', { pageSize: 2 });
      await dropped.next();
    })();
    const live = await store.scan('/s/', { pageSize: 2 });
    await live.next();
    // WeakRefs are cleared by a collection after the turn that last dereferenced them.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    await store.update('/s/3', { i: 3, changed: true });
    expect(store.openScans).toBe(1);
    expect((await live.next())?.map((v) => v.value)).toEqual([{ i: 2 }, { i: 3 }]);
  });

  test('closing ends open watches with Unavailable', async () => {
    const store = new SqliteStore(freshPath());
    const log = new EventLog();
    log.watch(store, '/', 0);
    await store.close();
    await log.waitForError();
    expect((log.errors[0] as StoreError).code).toBe('Unavailable');
    await expect(store.create('/x', {})).rejects.toThrow(/closed/);
  });

  test('a kill -9 under write load loses no acknowledged write', async () => {
    const path = freshPath();
    const child = join(dir, 'crash-writer.js');
    buildSync({
      entryPoints: [join(__dirname, 'crash-writer.ts')],
      bundle: true,
      platform: 'node',
      external: ['better-sqlite3'],
      outfile: child,
      logLevel: 'silent',
    });
    const acknowledged = await runAndKill(child, path, 400);
    expect(acknowledged.size).toBeGreaterThanOrEqual(400);

    const store = openAt(path);
    const items = new Map((await store.list('/crash/')).items.map((item) => [item.key, item.modRevision]));
    for (const [key, revision] of acknowledged) expect(items.get(key)).toBe(revision);
    expect(await store.revision()).toBeGreaterThanOrEqual(Math.max(...acknowledged.values()));
  });
});

describe('Compactor', () => {
  test('keeps the last keepRevisions and the keepMs window, compacts what is older than both', async () => {
    const store = openAt(freshPath());
    let clock = 0;
    const compactor = new Compactor(store, { keepRevisions: 5, keepMs: 1000, now: () => clock });
    for (let i = 0; i < 20; i += 1) await store.create(`/k/${i}`, {});
    expect(await compactor.runOnce()).toBeUndefined(); // nothing is keepMs old yet
    clock = 500;
    for (let i = 20; i < 30; i += 1) await store.create(`/k/${i}`, {});
    expect(await compactor.runOnce()).toBeUndefined();
    clock = 1000; // the sample at t=0 (revision 20) is now old enough; head - 5 = 25
    expect(await compactor.runOnce()).toBe(20);
    clock = 1500; // the t=500 sample (revision 30) is old enough, but the head is 30: keep 5
    expect(await compactor.runOnce()).toBe(25);
    const gone = new EventLog();
    gone.watch(store, '/k/', 24);
    await gone.waitForError();
    expect((gone.errors[0] as StoreError).code).toBe('Gone');
  });

  test('start() compacts on its own timer and stop() ends it', async () => {
    const store = openAt(freshPath());
    for (let i = 0; i < 10; i += 1) await store.create(`/t/${i}`, {});
    const errors: Error[] = [];
    const compactor = new Compactor(store, { intervalMs: 10, keepRevisions: 2, keepMs: 0, onError: (e) => errors.push(e) }).start();
    const deadline = Date.now() + 5000;
    const gone = async (): Promise<boolean> => {
      const log = new EventLog();
      const watch = log.watch(store, '/t/', 7);
      await new Promise((resolve) => setImmediate(resolve));
      watch.stop();
      return log.errors.length > 0;
    };
    while (!(await gone())) {
      if (Date.now() > deadline) throw new Error('the compactor did not compact within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await compactor.stop();
    expect(errors).toEqual([]);
  });
});

/** Runs the crash writer until it acknowledged `count` writes, SIGKILLs it, returns key -> revision. */
function runAndKill(script: string, dbPath: string, count: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    // The bundle lives in a temp dir; NODE_PATH lets it find the native better-sqlite3 module.
    const env = { ...process.env, NODE_PATH: join(__dirname, '../../../node_modules') };
    const proc = spawn(process.execPath, [script, dbPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const acknowledged = new Map<string, number>();
    let buffer = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the crash writer acknowledged only ${acknowledged.size} writes in 20 s; stderr: ${stderr}`));
    }, 20_000);
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [word, key, revision] = line.split(' ');
        if (word === 'ack') acknowledged.set(key, Number(revision));
      }
      if (!killed && acknowledged.size >= count) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve(acknowledged);
      else reject(new Error(`the crash writer exited by itself (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
}
