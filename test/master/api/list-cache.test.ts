import { Selector } from '../../../kube/label-selector';
import { FieldSelector } from '../../../master/api/field-selector';
import { Registry, type ListFilter, type Obj } from '../../../master/api/registry';
import { resources, type ResourceInfo } from '../../../master/api/resources';
import type { SqliteStore } from '../../../master/store/sqlite-store';
import type { Store } from '../../../master/store/store';
import { useSqliteRegistry } from '../../support/sqlite-registry';

const pods = resources.find((r) => r.plural === 'pods') as ResourceInfo;
const configmaps = resources.find((r) => r.plural === 'configmaps') as ResourceInfo;

/** What a list must return: every object of the store read back and filtered, in key order. */
async function reference(store: Store, r: ResourceInfo, namespace: string | undefined, filter: ListFilter): Promise<string[]> {
  const all = await new Registry(store).list(r, namespace);
  return all.items.filter((o) => (!filter.labelSelector || filter.labelSelector.matches(o.metadata?.labels)) && (!filter.fieldSelector || filter.fieldSelector.matches(o))).map(id);
}

const id = (o: Obj): string => `${o.metadata?.namespace}/${o.metadata?.name}@${o.metadata?.resourceVersion}`;

describe('selective lists served from the list cache', () => {
  const state = useSqliteRegistry('list-cache');
  let store: SqliteStore;
  let registry: Registry;

  beforeEach(() => ({ store, registry } = state));

  test('every selector form returns what a scan of the store returns, through creates, relabels and deletes', async () => {
    const selectors = ['app=a1', 'app in (a1,a2)', 'app!=a1', 'app notin (a0)', 'tier', '!tier', 'app=a1,tier=web', 'app=none', 'app=a2,!tier'];
    const fieldSelectors = ['spec.nodeName=n1', 'spec.nodeName=', 'metadata.name=p7', 'spec.nodeName!=n1', 'metadata.name=p3,spec.nodeName=n0'];
    const check = async (): Promise<void> => {
      for (const namespace of ['ns1', undefined]) {
        for (const text of selectors) {
          const filter = { labelSelector: Selector.parse(text) };
          expect({ text, namespace, got: (await registry.list(pods, namespace, filter)).items.map(id) }).toEqual({ text, namespace, got: await reference(store, pods, namespace, filter) });
        }
        for (const text of fieldSelectors) {
          const filter = { fieldSelector: FieldSelector.parse(text), labelSelector: Selector.parse('') };
          expect({ text, namespace, got: (await registry.list(pods, namespace, filter)).items.map(id) }).toEqual({ text, namespace, got: await reference(store, pods, namespace, filter) });
        }
      }
    };
    for (let i = 0; i < 30; i++) {
      const labels: Record<string, string> = { app: `a${i % 3}`, ...(i % 4 === 0 ? { tier: 'web' } : {}) };
      const spec = { ...(i % 5 === 0 ? {} : { nodeName: `n${i % 2}` }), containers: [{ name: 'c', image: 'busybox' }] };
      await registry.create(pods, `ns${i % 2}`, { metadata: { name: `p${i}`, namespace: `ns${i % 2}`, labels }, spec });
    }
    await check();
    // Each read sees the write made just before it (no lag).
    for (let i = 0; i < 30; i += 3) {
      await registry.update(pods, `ns${i % 2}`, `p${i}`, (cur) => ({ ...cur, metadata: { ...cur.metadata, labels: { app: 'a1', tier: 'web' } } }));
      const filter = { labelSelector: Selector.parse('app=a1,tier=web') };
      expect((await registry.list(pods, undefined, filter)).items.map((o) => o.metadata?.name)).toContain(`p${i}`);
    }
    await check();
    for (let i = 0; i < 30; i += 4) await registry.delete(pods, `ns${i % 2}`, `p${i}`, { gracePeriodSeconds: 0 });
    await check();
  });

  test('limit and continue page through the matching objects in key order, without repeats or gaps', async () => {
    for (let i = 0; i < 25; i++) {
      await registry.create(configmaps, 'default', { metadata: { name: `cm${String(i).padStart(2, '0')}`, namespace: 'default', labels: { keep: i % 2 === 0 ? 'yes' : 'no' } } });
    }
    const labelSelector = Selector.parse('keep=yes');
    const names: string[] = [];
    let continueToken: string | undefined;
    let pages = 0;
    do {
      const page = await registry.list(configmaps, 'default', { labelSelector, limit: 4, continueToken });
      names.push(...page.items.map((o) => o.metadata?.name as string));
      continueToken = page.continueToken;
      pages++;
    } while (continueToken && pages < 10);
    expect(names).toEqual(Array.from({ length: 13 }, (_, i) => `cm${String(i * 2).padStart(2, '0')}`));
    expect(pages).toBe(4);
  });

  test('once warm, a selective list reads no object from the store; an unselective one still does', async () => {
    for (let i = 0; i < 5; i++) await registry.create(configmaps, 'default', { metadata: { name: `c${i}`, namespace: 'default', labels: { n: String(i) } } });
    await registry.list(configmaps, 'default', { labelSelector: Selector.parse('n=1') });
    const list = jest.spyOn(store, 'list');
    expect((await registry.list(configmaps, 'default', { labelSelector: Selector.parse('n=3') })).items.map((o) => o.metadata?.name)).toEqual(['c3']);
    expect((await registry.list(configmaps, 'default', { fieldSelector: FieldSelector.parse('metadata.name=c4') })).items.map((o) => o.metadata?.name)).toEqual(['c4']);
    expect(list).not.toHaveBeenCalled();
    await registry.list(configmaps, 'default');
    expect(list).toHaveBeenCalledTimes(1);
  });

  test('a list returns the resourceVersion of the store revision it reflects', async () => {
    await registry.create(configmaps, 'default', { metadata: { name: 'one', namespace: 'default', labels: { a: 'b' } } });
    const first = await registry.list(configmaps, 'default', { labelSelector: Selector.parse('a=b') });
    expect(first.resourceVersion).toBe(String(await store.revision()));
    // A write to another resource moves the revision; the next list is at least as new.
    await registry.create(pods, 'default', { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const second = await registry.list(configmaps, 'default', { labelSelector: Selector.parse('a=b') });
    expect(Number(second.resourceVersion)).toBe(await store.revision());
    expect(second.items.map((o) => o.metadata?.resourceVersion)).toEqual(first.items.map((o) => o.metadata?.resourceVersion));
  });

  test('a selective list after a write is answered with it without waiting a turn of the event loop for the watch', async () => {
    await registry.create(configmaps, 'default', { metadata: { name: 'warm', namespace: 'default', labels: { a: 'b' } } });
    await registry.list(configmaps, 'default', { labelSelector: Selector.parse('a=b') });
    // Another watcher shows when the store's fan-out delivers (a turn after the commit).
    const delivered: string[] = [];
    store.watch('/registry/core/configmaps/', await store.revision(), { onEvent: (e) => void delivered.push(e.key), onError: () => undefined });
    await registry.create(configmaps, 'default', { metadata: { name: 'new', namespace: 'default', labels: { a: 'b' } } });
    const list = await registry.list(configmaps, 'default', { labelSelector: Selector.parse('a=b') });
    expect(list.items.map((o) => o.metadata?.name)).toEqual(['new', 'warm']);
    expect(delivered).toEqual([]);
  });

  test("a list's items share the cache's parts frozen: a change throws, and neither the cache nor the next list changes", async () => {
    await registry.create(configmaps, 'default', { metadata: { name: 'mine', namespace: 'default', labels: { a: 'b' } }, data: { k: 'v' } });
    const selector = { labelSelector: Selector.parse('a=b') };
    const first = await registry.list(configmaps, 'default', selector);
    const item = first.items[0] as Obj & { data: Record<string, string> };
    // The top level and metadata are the item's own; what is below them is the cache's.
    item.data = { k: 'replaced' };
    expect(() => {
      (item.metadata as { labels: Record<string, string> }).labels.a = 'other';
    }).toThrow(TypeError);
    const second = await registry.list(configmaps, 'default', selector);
    expect(second.items).toHaveLength(1);
    expect(second.items[0]).not.toBe(first.items[0]);
    expect((second.items[0] as Obj & { data: Record<string, string> }).data).toEqual({ k: 'v' });
    expect(second.items[0].metadata?.labels).toEqual({ a: 'b' });
    expect(second.items[0].metadata?.managedFields).toEqual(first.items[0].metadata?.managedFields);
  });
});
