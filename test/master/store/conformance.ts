import { Store, StoreError, StoreEvent, StoredText, StoreWatch, WatchOptions } from '../../../master/store/store';

/**
 * The behaviour every Store backend must share. Each test works under its own key prefix so a
 * backend may be shared between tests (one etcd process per file); `open` gives a fresh client.
 */
export function describeStoreConformance(name: string, open: () => Promise<Store>): void {
  describe(`${name} store conformance`, () => {
    let store: Store;
    let ns: string;
    let counter = 0;

    beforeEach(async () => {
      store = await open();
      counter += 1;
      ns = `/conformance/${Date.now()}-${counter}/`;
    });
    afterEach(async () => {
      await store.close();
    });

    test('create, get and AlreadyExists', async () => {
      const key = `${ns}pods/a`;
      const before = await store.revision();
      const rev = await store.create(key, { name: 'a', n: 1 });
      expect(rev).toBeGreaterThan(before);
      await expect(store.revision()).resolves.toBe(rev);
      expect(await store.get(key)).toEqual({ key, value: { name: 'a', n: 1 }, modRevision: rev, createRevision: rev });
      await expectStoreError(store.create(key, { name: 'other' }), 'AlreadyExists');
      expect((await store.get(key))?.value).toEqual({ name: 'a', n: 1 });
      expect(await store.get(`${ns}pods/missing`)).toBeUndefined();
    });

    test('get and list hand out values the caller owns', async () => {
      const key = `${ns}owned/a`;
      const value = { spec: { n: 1 }, items: [1] };
      await store.create(key, value);
      value.spec.n = 99; // the store keeps what was written, not the caller's object
      const got = await store.get(key);
      (got?.value.spec as { n: number }).n = 2;
      (got?.value.items as number[]).push(2);
      const listed = (await store.list(`${ns}owned/`)).items[0];
      expect(listed.value).toEqual({ spec: { n: 1 }, items: [1] });
      (listed.value.spec as { n: number }).n = 3;
      expect((await store.get(key))?.value).toEqual({ spec: { n: 1 }, items: [1] });
    });

    test('update with expectedRevision, Conflict on a stale one, NotFound on a missing key', async () => {
      const key = `${ns}cm/x`;
      const created = await store.create(key, { v: 1 });
      const updated = await store.update(key, { v: 2 }, created);
      expect(updated).toBeGreaterThan(created);
      expect(await store.get(key)).toEqual({ key, value: { v: 2 }, modRevision: updated, createRevision: created });
      await expectStoreError(store.update(key, { v: 3 }, created), 'Conflict');
      expect((await store.get(key))?.value).toEqual({ v: 2 });
      const unconditional = await store.update(key, { v: 4 });
      expect(unconditional).toBeGreaterThan(updated);
      await expectStoreError(store.update(`${ns}cm/missing`, { v: 1 }), 'NotFound');
      await expectStoreError(store.update(`${ns}cm/missing`, { v: 1 }, 1), 'NotFound');
      await expectStoreError(store.delete(`${ns}cm/missing`), 'NotFound');
    });

    test('delete returns the last value and the delete revision', async () => {
      const key = `${ns}secrets/s`;
      const created = await store.create(key, { data: 'one' });
      const updated = await store.update(key, { data: 'two' });
      await expectStoreError(store.delete(key, created), 'Conflict');
      const deleted = await store.delete(key, updated);
      expect(deleted).toEqual({ revision: updated + 1, value: { data: 'two' } });
      expect(await store.get(key)).toBeUndefined();
      // The key can be created again, with a fresh createRevision.
      const again = await store.create(key, { data: 'three' });
      expect((await store.get(key))?.createRevision).toBe(again);
    });

    test('list by prefix does not match a longer sibling prefix', async () => {
      await store.create(`${ns}a/2`, { i: 2 });
      await store.create(`${ns}a/1`, { i: 1 });
      await store.create(`${ns}ab/1`, { i: 3 });
      const last = await store.create(`${ns}b`, { i: 4 });
      const result = await store.list(`${ns}a/`);
      expect(result.items.map((item) => item.key)).toEqual([`${ns}a/1`, `${ns}a/2`]);
      expect(result.items[0].value).toEqual({ i: 1 });
      expect(result.more).toBe(false);
      expect(result.revision).toBeGreaterThanOrEqual(last);
      expect((await store.list(`${ns}zzz/`)).items).toEqual([]);
    });

    test('limit and startAfter page through every item exactly once', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 23; i += 1) keys.push(`${ns}items/${String(i).padStart(3, '0')}`);
      await Promise.all(keys.map((key, i) => store.create(key, { i })));
      await store.create(`${ns}itemsX`, { outside: true });
      const seen: string[] = [];
      let startAfter: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await store.list(`${ns}items/`, { limit: 5, startAfter });
        expect(page.revision).toBe(await store.revision());
        seen.push(...page.items.map((item) => item.key));
        pages += 1;
        if (!page.more) break;
        expect(page.items).toHaveLength(5);
        startAfter = page.items[page.items.length - 1].key;
      }
      expect(pages).toBe(5);
      expect(seen).toEqual(keys);
      const exact = await store.list(`${ns}items/`, { limit: 23 });
      expect(exact.items).toHaveLength(23);
      expect(exact.more).toBe(false);
    });

    test('a scan hands out every value as of its revision, a page at a time, whatever changes meanwhile', async () => {
      const keys = Array.from({ length: 7 }, (_, i) => `${ns}scan/${String(i).padStart(2, '0')}`);
      for (const [i, key] of keys.entries()) await store.create(key, { i });
      await store.create(`${ns}scanX`, { outside: true });
      const atStart = await store.list(`${ns}scan/`);
      const scan = await store.scan(`${ns}scan/`, { pageSize: 3 });
      expect(scan.revision).toBe(await store.revision());
      const first = await scan.next();
      // Changes after the scan began, in pages not yet read: an update, a delete, a delete and
      // create again of one key, and a new key between two old ones.
      await store.update(keys[4], { i: 4, changed: true });
      await store.delete(keys[5]);
      await store.delete(keys[6]);
      await store.create(keys[6], { i: 6, again: true });
      await store.create(`${ns}scan/03a`, { added: true });
      const pages = [first];
      for (let page = await scan.next(); page; page = await scan.next()) pages.push(page);
      expect(pages.map((p) => p?.length)).toEqual([3, 3, 1]);
      expect(pages.flat()).toEqual(atStart.items);
      await expect(scan.next()).resolves.toBeUndefined();
      const empty = await store.scan(`${ns}none/`);
      await expect(empty.next()).resolves.toBeUndefined();
    });

    test('a scan and a list read as text hand out the JSON each value was written as, in the same pages', async () => {
      const keys = Array.from({ length: 5 }, (_, i) => `${ns}scan-text/${i}`);
      const values = keys.map((_, i) => ({ apiVersion: 'v1', kind: 'Thing', metadata: { name: `t${i}` }, spec: { n: i, s: 'é"\\' } }));
      for (const [i, key] of keys.entries()) await store.create(key, values[i]);
      const atStart = await store.list(`${ns}scan-text/`);
      const scan = await store.scan(`${ns}scan-text/`, { pageSize: 2 });
      const first = await scan.nextText();
      await store.update(keys[3], { changed: true });
      await store.delete(keys[4]);
      const pages = [first];
      for (let page = await scan.nextText(); page; page = await scan.nextText()) pages.push(page);
      expect(pages.map((p) => p?.length)).toEqual([2, 2, 1]);
      const texts = pages.flat() as StoredText[];
      expect(texts.map((st) => st.text)).toEqual(values.map((v) => JSON.stringify(v)));
      expect(texts.map(({ text, ...rest }) => ({ ...rest, value: JSON.parse(text) }))).toEqual(atStart.items);
      await expect(scan.nextText()).resolves.toBeUndefined();
      const listed = await store.listText(`${ns}scan-text/`, { limit: 2, startAfter: keys[0] });
      expect(listed.items.map((st) => st.text)).toEqual([JSON.stringify(values[1]), JSON.stringify(values[2])]);
      expect(listed.more).toBe(true);
      expect(listed.items.map(({ text, ...rest }) => ({ ...rest, value: JSON.parse(text) }))).toEqual((await store.list(`${ns}scan-text/`, { limit: 2, startAfter: keys[0] })).items);
    });

    test('a scan whose revision was compacted under a changed value: Gone on etcd, the values as of the scan on SQLite', async () => {
      const keys = Array.from({ length: 5 }, (_, i) => `${ns}scan-gone/${i}`);
      for (const [i, key] of keys.entries()) await store.create(key, { i });
      const atStart = await store.list(`${ns}scan-gone/`);
      const scan = await store.scan(`${ns}scan-gone/`, { pageSize: 2 });
      expect(await scan.next()).toHaveLength(2);
      await store.update(keys[2], { i: 2, changed: true });
      await store.update(keys[2], { i: 2, changed: 'twice' });
      await store.delete(keys[3]);
      await store.delete(keys[4]);
      await store.create(keys[4], { i: 4, again: true });
      await store.compact(await store.revision());
      if (store.kind === 'etcd') return expectStoreError(scan.next(), 'Gone');
      // SQLite's history before the scan is gone, but the store kept each value the scan still
      // needed when a write replaced it.
      const rest: unknown[] = [];
      for (let page = await scan.next(); page; page = await scan.next()) rest.push(...page);
      expect(rest).toEqual(atStart.items.slice(2));
    });

    test('a watch from an old revision delivers every later event once, in order', async () => {
      const start = await store.revision();
      const r1 = await store.create(`${ns}w/a`, { v: 1 });
      const r2 = await store.update(`${ns}w/a`, { v: 2 });
      const r3 = await store.create(`${ns}other/b`, { v: 1 });
      const r4 = await store.delete(`${ns}w/a`);
      const events = new EventLog();
      const watch = events.watch(store, `${ns}w/`, start);
      const r5 = await store.create(`${ns}w/c`, { v: 5 });
      await events.waitForRevision(r5);
      watch.stop();
      expect(events.events).toEqual([
        { type: 'ADDED', key: `${ns}w/a`, value: { v: 1 }, revision: r1 },
        { type: 'MODIFIED', key: `${ns}w/a`, value: { v: 2 }, revision: r2 },
        { type: 'DELETED', key: `${ns}w/a`, value: { v: 2 }, revision: r4.revision },
        { type: 'ADDED', key: `${ns}w/c`, value: { v: 5 }, revision: r5 },
      ]);
      expect(r3).toBe(r2 + 1);
      expect(events.errors).toEqual([]);
    });

    test('500 concurrent writes reach live and catching-up watches with no loss or duplicate', async () => {
      const start = await store.revision();
      const live = new EventLog();
      const liveWatch = live.watch(store, `${ns}load/`, start);
      const acknowledged: number[] = [];
      let lateWatch: StoreWatch | undefined;
      const late = new EventLog();
      const writer = async (task: number): Promise<void> => {
        for (let i = 0; i < 50; i += 1) {
          const key = `${ns}load/${task}/${i}`;
          acknowledged.push(await store.create(key, { task, i }));
          acknowledged.push(await store.update(key, { task, i, updated: true }));
          // Halfway through, a second watch catches up from the start while writes continue.
          if (task === 0 && i === 25) lateWatch = late.watch(store, `${ns}load/`, start);
        }
      };
      await Promise.all([0, 1, 2, 3, 4].map(writer));
      expect(acknowledged).toHaveLength(500);
      const last = Math.max(...acknowledged);
      await live.waitForRevision(last);
      await late.waitForRevision(last);
      liveWatch.stop();
      lateWatch?.stop();
      const expected = [...acknowledged].sort((a, b) => a - b);
      for (const log of [live, late]) {
        expect(log.errors).toEqual([]);
        expect(log.events.map((event) => event.revision)).toEqual(expected);
      }
      expect(live.events.filter((event) => event.type === 'ADDED')).toHaveLength(250);
    });

    test('a watch from a compacted revision fails with Gone', async () => {
      const r1 = await store.create(`${ns}c/a`, { v: 1 });
      await store.update(`${ns}c/a`, { v: 2 });
      const r3 = await store.update(`${ns}c/a`, { v: 3 });
      await store.compact(r3);
      const gone = new EventLog();
      gone.watch(store, `${ns}c/`, r1 - 1);
      await gone.waitForError();
      expect(gone.errors[0]).toBeInstanceOf(StoreError);
      expect((gone.errors[0] as StoreError).code).toBe('Gone');
      expect(gone.events).toEqual([]);
      // Just below the compacted revision is gone too: the event at r3 - 1 was forgotten.
      const justBelow = new EventLog();
      justBelow.watch(store, `${ns}c/`, r3 - 1);
      await justBelow.waitForError();
      expect((justBelow.errors[0] as StoreError).code).toBe('Gone');
      // Watching from the compacted revision itself still works: nothing after it was forgotten.
      const fine = new EventLog();
      const watch = fine.watch(store, `${ns}c/`, r3);
      const r4 = await store.update(`${ns}c/a`, { v: 4 });
      await fine.waitForRevision(r4);
      watch.stop();
      expect(fine.events.map((event) => event.revision)).toEqual([r4]);
      // Compaction forgets history, not state.
      expect((await store.get(`${ns}c/a`))?.value).toEqual({ v: 4 });
    });

    test('two watchers on different prefixes each see only their own keys', async () => {
      const start = await store.revision();
      const pods = new EventLog();
      const nodes = new EventLog();
      const podWatch = pods.watch(store, `${ns}pods/`, start);
      const nodeWatch = nodes.watch(store, `${ns}nodes/`, start);
      const p1 = await store.create(`${ns}pods/p1`, {});
      const n1 = await store.create(`${ns}nodes/n1`, {});
      const p2 = await store.create(`${ns}pods/p2`, {});
      await store.create(`${ns}podsX/p3`, {});
      const n2 = await store.create(`${ns}nodes/n2`, {});
      await pods.waitForRevision(p2);
      await nodes.waitForRevision(n2);
      podWatch.stop();
      nodeWatch.stop();
      expect(pods.events.map((event) => event.revision)).toEqual([p1, p2]);
      expect(nodes.events.map((event) => event.revision)).toEqual([n1, n2]);
    });

    test('a triggered watch gets the events of its value, and sees a key it got leave it; others still get everything', async () => {
      const start = await store.revision();
      const onN1 = new EventLog();
      const onN2 = new EventLog();
      const all = new EventLog();
      const n1Watch = onN1.watch(store, `${ns}t/`, start, { trigger: { field: 'spec.nodeName', value: 'n1' } });
      const n2Watch = onN2.watch(store, `${ns}t/`, start, { trigger: { field: 'spec.nodeName', value: 'n2' } });
      const allWatch = all.watch(store, `${ns}t/`, start);
      const a1 = await store.create(`${ns}t/a`, { spec: { nodeName: 'n1' } });
      const b1 = await store.create(`${ns}t/b`, { spec: {} });
      const b2 = await store.update(`${ns}t/b`, { spec: { nodeName: 'n2' } });
      const a2 = await store.update(`${ns}t/a`, { spec: { nodeName: 'n1' }, status: 'running' });
      // Leaving n1: n1's watch must see it (to drop it), n2's gets it as its own.
      const a3 = await store.update(`${ns}t/a`, { spec: { nodeName: 'n2' } });
      const a4 = await store.update(`${ns}t/a`, { spec: { nodeName: 'n2' }, status: 'moved' });
      const b3 = await store.delete(`${ns}t/b`);
      await all.waitForRevision(b3.revision);
      await onN2.waitForRevision(b3.revision);
      await onN1.waitForRevision(a3);
      n1Watch.stop();
      n2Watch.stop();
      allWatch.stop();
      expect(all.events.map((e) => e.revision)).toEqual([a1, b1, b2, a2, a3, a4, b3.revision]);
      // A store may deliver more than the trigger asks for, never less, always in order.
      const n1 = onN1.events.map((e) => e.revision);
      const n2 = onN2.events.map((e) => e.revision);
      for (const r of [a1, a2, a3]) expect(n1).toContain(r);
      for (const r of [b2, a3, a4, b3.revision]) expect(n2).toContain(r);
      expect(n1).toEqual([...n1].sort((x, y) => x - y));
      expect(n2).toEqual([...n2].sort((x, y) => x - y));
    });

    test('stop() ends delivery', async () => {
      const start = await store.revision();
      const stopped = new EventLog();
      const sentinel = new EventLog();
      const watch = stopped.watch(store, `${ns}s/`, start);
      const sentinelWatch = sentinel.watch(store, `${ns}s/`, start);
      const r1 = await store.create(`${ns}s/1`, {});
      await stopped.waitForRevision(r1);
      watch.stop();
      const r2 = await store.create(`${ns}s/2`, {});
      await sentinel.waitForRevision(r2);
      sentinelWatch.stop();
      expect(stopped.events.map((event) => event.revision)).toEqual([r1]);
      expect(stopped.errors).toEqual([]);
    });

    test('concurrent updates with the same expectedRevision: exactly one wins', async () => {
      const key = `${ns}race/x`;
      const created = await store.create(key, { winner: -1 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => store.update(key, { winner: i }, created)),
      );
      const won = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect((outcome.reason as StoreError).code).toBe('Conflict');
      }
      expect((await store.get(key))?.value).toEqual({ winner: won[0] });
      const racedDeletes = await Promise.allSettled([store.delete(key), store.delete(key)]);
      expect(racedDeletes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    });
  });
}

/** Collects one watch's callbacks and waits on them with a deadline instead of sleeping. */
export class EventLog {
  readonly events: StoreEvent[] = [];
  readonly errors: Error[] = [];
  private waiters: (() => void)[] = [];

  watch(store: Store, prefix: string, fromRevision: number, options?: WatchOptions): StoreWatch {
    return store.watch(prefix, fromRevision, {
      onEvent: (event) => {
        this.events.push(event);
        this.wake();
      },
      onError: (err) => {
        this.errors.push(err);
        this.wake();
      },
    }, options);
  }

  waitForRevision(revision: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(
      () => this.events.some((event) => event.revision >= revision),
      `an event at revision ${revision}`,
      timeoutMs,
    );
  }

  waitForError(timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.errors.length > 0, 'a watch error', timeoutMs);
  }

  private waitFor(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        const errors = this.errors.map(String).join('; ') || 'none';
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.events.length} events, errors: ${errors}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export async function expectStoreError(promise: Promise<unknown>, code: StoreError['code']): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe(code);
}
