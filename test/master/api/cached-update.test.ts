import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Selector } from '../../../kube/label-selector';
import { Registry, type Obj } from '../../../master/api/registry';
import { resources, type ResourceInfo } from '../../../master/api/resources';
import { SqliteStore } from '../../../master/store/sqlite-store';
import type { Store, StoreEvent, WatchHandlers } from '../../../master/store/store';

const configmaps = resources.find((r) => r.plural === 'configmaps') as ResourceInfo;
const KEY = '/registry/core/configmaps/ns/cm';

/**
 * A real SQLite store whose watch events can be held back, so the list cache is stale on
 * purpose, and which counts its reads.
 */
class HeldStore {
  gets = 0;
  holding = false;
  private readonly held: (() => void)[] = [];
  readonly store: Store;

  constructor(readonly inner: SqliteStore) {
    this.store = new Proxy(inner, {
      get: (target, prop): unknown => {
        if (prop === 'get') return (key: string) => (this.gets++, target.get(key));
        if (prop === 'watch') {
          return (prefix: string, from: number, h: WatchHandlers, o?: Parameters<Store['watch']>[3]) =>
            target.watch(prefix, from, { onEvent: (e: StoreEvent) => (this.holding ? this.held.push(() => h.onEvent(e)) : h.onEvent(e)), onError: h.onError }, o);
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as unknown as Store;
  }

  release(): void {
    this.holding = false;
    for (const deliver of this.held.splice(0)) deliver();
  }
}

/** A Registry over a HeldStore in a temp dir of its own; close ends both and removes the dir. */
function openHeld(): { held: HeldStore; registry: Registry; close: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-cached-'));
  const held = new HeldStore(new SqliteStore(join(dir, 'state.db')));
  const registry = new Registry(held.store);
  const close = async (): Promise<void> => {
    held.release();
    registry.stop();
    await held.inner.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { held, registry, close };
}

const data = (o: Obj): unknown => (o as { data?: unknown }).data;
const setData = (values: Record<string, string>) => (cm: Obj): Obj => ({ ...cm, data: { ...(cm as { data?: Record<string, string> }).data, ...values } }) as Obj;

describe('updates that start from the list cache', () => {
  let held: HeldStore;
  let registry: Registry;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ held, registry, close } = openHeld());
    await registry.create(configmaps, 'ns', { metadata: { name: 'cm' }, data: { a: '1' } } as Obj);
    await registry.update(configmaps, 'ns', 'cm', setData({ warm: 'up' }));
    // On SQLite updates use the cache a selective list made (on etcd the first update makes it).
    await registry.list(configmaps, 'ns', { labelSelector: Selector.parse('x!=y') });
    held.gets = 0;
  });

  afterEach(() => close());

  const stored = async (): Promise<unknown> => (await held.inner.get(KEY))?.value.data;

  test('read nothing from the store when the cache is current', async () => {
    const updated = await registry.update(configmaps, 'ns', 'cm', setData({ b: '2' }));
    expect(held.gets).toBe(0);
    expect(data(updated)).toEqual({ a: '1', warm: 'up', b: '2' });
    expect(await stored()).toEqual({ a: '1', warm: 'up', b: '2' });
    expect(updated.metadata?.resourceVersion).toBe(String((await held.inner.get(KEY))?.modRevision));
  });

  test("an update right after another one starts from the copy with the other's write (on SQLite the cache takes what the store queued for it)", async () => {
    await registry.update(configmaps, 'ns', 'cm', setData({ b: '2' }));
    const updated = await registry.update(configmaps, 'ns', 'cm', setData({ c: '3' }));
    expect(held.gets).toBe(0); // a stale copy would have been refused by the store and the update read it
    expect(data(updated)).toEqual({ a: '1', warm: 'up', b: '2', c: '3' });
    expect(await stored()).toEqual({ a: '1', warm: 'up', b: '2', c: '3' });
  });

  test('a stale copy loses nothing: the write made behind the cache stays and the update applies on top of it', async () => {
    held.holding = true;
    const behind = await held.inner.get(KEY);
    await held.inner.update(KEY, { ...behind?.value, data: { a: '2', warm: 'up' } });
    const updated = await registry.update(configmaps, 'ns', 'cm', setData({ b: '2' }));
    expect(held.gets).toBeGreaterThan(0);
    expect(data(updated)).toEqual({ a: '2', warm: 'up', b: '2' });
    expect(await stored()).toEqual({ a: '2', warm: 'up', b: '2' });
  });

  test('a change that is a no-op on the stale copy is still written', async () => {
    held.holding = true;
    const behind = await held.inner.get(KEY);
    await held.inner.update(KEY, { ...behind?.value, data: { a: '2', warm: 'up' } });
    const updated = await registry.update(configmaps, 'ns', 'cm', setData({ a: '1' }));
    expect(data(updated)).toEqual({ a: '1', warm: 'up' });
    expect(await stored()).toEqual({ a: '1', warm: 'up' });
  });

  test("a resourceVersion precondition is checked against the store's object, not the stale copy", async () => {
    held.holding = true;
    const behind = await held.inner.get(KEY);
    const rev = await held.inner.update(KEY, { ...behind?.value, data: { a: '2' } });
    const updated = await registry.update(configmaps, 'ns', 'cm', (cm) => ({ ...setData({ c: '3' })(cm), metadata: { ...cm.metadata, resourceVersion: String(rev) } }) as Obj);
    expect(data(updated)).toEqual({ a: '2', c: '3' });
    // and a precondition the store no longer matches is still a 409
    await expect(registry.update(configmaps, 'ns', 'cm', (cm) => ({ ...cm, metadata: { ...cm.metadata, resourceVersion: String(rev) } }) as Obj)).rejects.toMatchObject({ code: 409 });
  });

  test('a mutation that refuses the stale copy is tried on the stored object', async () => {
    held.holding = true;
    const behind = await held.inner.get(KEY);
    await held.inner.update(KEY, { ...behind?.value, data: { a: '2' } });
    const updated = await registry.update(configmaps, 'ns', 'cm', (cm) => {
      if (data(cm) && (data(cm) as { a?: string }).a !== '2') throw new Error('refused: a is not 2');
      return setData({ seen: 'a=2' })(cm);
    });
    expect(data(updated)).toEqual({ a: '2', seen: 'a=2' });
  });
});

describe('reads that answer from the list cache (findCached)', () => {
  let held: HeldStore;
  let registry: Registry;
  let close: () => Promise<void>;
  const bound = (o: Obj): boolean => Boolean((o.spec as { nodeName?: string } | undefined)?.nodeName);

  beforeEach(async () => {
    ({ held, registry, close } = openHeld());
    await registry.create(configmaps, 'ns', { metadata: { name: 'cm' }, spec: {}, data: { a: '1' } } as Obj);
    await registry.list(configmaps, 'ns', { labelSelector: Selector.parse('x!=y') });
    held.gets = 0;
  });

  afterEach(() => close());

  test('a usable copy answers without a store read, at the revision the cache holds', async () => {
    const found = await registry.findCached(configmaps, 'ns', 'cm');
    expect(held.gets).toBe(0);
    expect(data(found as Obj)).toEqual({ a: '1' });
    expect(found?.metadata?.resourceVersion).toBe(String((await held.inner.get(KEY))?.modRevision));
  });

  test('a copy the caller cannot use (behind a write that set what it asks for) is read again from the store', async () => {
    held.holding = true;
    await registry.update(configmaps, 'ns', 'cm', (o) => ({ ...o, spec: { nodeName: 'n1' } }) as Obj);
    held.gets = 0;
    const found = await registry.findCached(configmaps, 'ns', 'cm', bound);
    expect(held.gets).toBe(1);
    expect((found?.spec as { nodeName?: string }).nodeName).toBe('n1');
  });

  test('an object the cache has not seen yet is read from the store; one no store holds is undefined', async () => {
    held.holding = true;
    await registry.create(configmaps, 'ns', { metadata: { name: 'new' }, data: { b: '2' } } as Obj);
    expect(data((await registry.findCached(configmaps, 'ns', 'new')) as Obj)).toEqual({ b: '2' });
    expect(await registry.findCached(configmaps, 'ns', 'none')).toBeUndefined();
    expect(held.gets).toBe(2);
  });

  test("a copy handed out is the caller's own at its top level: changing it leaves the cache as it was", async () => {
    const found = (await registry.findCached(configmaps, 'ns', 'cm')) as Obj & { data: Record<string, string> };
    expect(() => {
      found.data.a = 'changed';
    }).toThrow(TypeError);
    found.metadata = { name: 'other' };
    expect(data((await registry.findCached(configmaps, 'ns', 'cm')) as Obj)).toEqual({ a: '1' });
  });
});
