import type { ConfigMap, Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import type { KubeObject, WatchEvent } from '../../../kube/object';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { SharedInformers } from '../../../kube/shared-informers';
import type { ListWatch } from '../../../kube/list-watch';
import { StoreListWatch } from '../../../master/api/store-list-watch';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(90_000);

const pod = (name: string, labels: Record<string, string> = {}): Pod => ({
  metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1d'] }] },
});

/** Events of one watch until `count` have come, then the watch stops. */
function collect(source: ListWatch, ref: ResourceRef, from: string, count: number): Promise<WatchEvent[]> {
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    const handle = source.watch(ref, { resourceVersion: from, allowWatchBookmarks: false }, (ev) => {
      events.push(ev);
      if (events.length === count) {
        handle.stop();
        resolve(events);
      }
    }, reject);
  });
}

describe.each(storeKinds)("the controllers' store-backed informer source on %s", (store) => {
  let m: TestMaster;
  let local: StoreListWatch;

  beforeAll(async () => {
    m = await startTestMaster({ store });
    local = new StoreListWatch(m.store, m.client);
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('lists exactly what the API lists: same objects, managedFields and resourceVersions included', async () => {
    const ns = `list-${store}`;
    await m.client.create(core('namespaces'), { metadata: { name: ns } });
    for (const name of ['a', 'b', 'c']) await m.client.create(core('pods', ns), pod(name));
    const [fromApi, fromStore] = await Promise.all([m.client.list<Pod>(core('pods', ns)), local.list<Pod>(core('pods', ns))]);
    expect(fromStore.items).toEqual(fromApi.items);
    expect(fromStore.items.map((p) => p.metadata?.name)).toEqual(['a', 'b', 'c']);
    expect(fromStore.kind).toBe('PodList');
    expect(Number(fromStore.metadata.resourceVersion)).toBeGreaterThanOrEqual(Math.max(...fromApi.items.map((p) => Number(p.metadata?.resourceVersion))));
    // Cluster-scoped, and a namespace filter on a cluster-wide resource reads everything.
    const nsFromStore = await local.list(core('namespaces'));
    expect(nsFromStore.items.map((n) => n.metadata?.name)).toContain(ns);
  });

  test('watches exactly what the API watch sends, from the same resourceVersion', async () => {
    const ns = `watch-${store}`;
    await m.client.create(core('namespaces'), { metadata: { name: ns } });
    const from = (await m.client.list(core('configmaps', ns))).metadata.resourceVersion ?? '';
    const ref = core('configmaps', ns);
    const viaApi = collect(m.client, ref, from, 3);
    const viaStore = collect(local, ref, from, 3);
    await new Promise((resolve) => setTimeout(resolve, 300)); // both watches open
    await m.client.create<ConfigMap>(ref, { metadata: { name: 'w' }, data: { a: '1' } } as ConfigMap);
    await m.client.patch(core('configmaps', ns, 'w'), 'merge', { data: { a: '2' } });
    await m.client.delete(core('configmaps', ns, 'w'));
    const [api, local3] = await Promise.all([viaApi, viaStore]);
    expect(local3.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(local3).toEqual(api);
  });

  test('a watch from a compacted resourceVersion ends with 410 Gone, as the API says it', async () => {
    const ns = `gone-${store}`;
    await m.client.create(core('namespaces'), { metadata: { name: ns } });
    const old = (await m.client.create<ConfigMap>(core('configmaps', ns), { metadata: { name: 'x' } } as ConfigMap)).metadata?.resourceVersion ?? '';
    await m.client.patch(core('configmaps', ns, 'x'), 'merge', { data: { a: '1' } });
    await m.store.compact(await m.store.revision());
    const errors: Error[] = [];
    const handle = local.watch(core('configmaps', ns), { resourceVersion: old }, () => undefined, (err) => errors.push(err));
    await handle.done;
    expect(errors).toHaveLength(1);
    expect(ApiError.isGone(errors[0])).toBe(true);
  });

  test('selective lists, single objects and custom resources go to the API', async () => {
    const ns = `remote-${store}`;
    await m.client.create(core('namespaces'), { metadata: { name: ns } });
    await m.client.create(core('pods', ns), pod('x', { app: 'x' }));
    await m.client.create(core('pods', ns), pod('y', { app: 'y' }));
    const selected = await local.list<Pod>(core('pods', ns), { labelSelector: 'app=y' });
    expect(selected.items.map((p) => p.metadata?.name)).toEqual(['y']);
    const paged = await local.list<Pod>(core('pods', ns), { limit: 1 });
    expect(paged.items).toHaveLength(1);
    expect(paged.metadata.continue).toBeTruthy();
    await expect(local.list({ group: 'example.com', version: 'v1', resource: 'widgets' })).rejects.toMatchObject({ code: 404 });
  });

  test("the shared informers' objects are frozen, and a change to one throws instead of reaching the API's watchers", async () => {
    const ns = `frozen-${store}`;
    await m.client.create(core('namespaces'), { metadata: { name: ns } });
    const informers = new SharedInformers(local);
    const informer = informers.get<ConfigMap>(core('configmaps'));
    let seen: () => void = () => undefined;
    const watched = new Promise<void>((resolve) => (seen = resolve));
    informer.on((_type, obj) => {
      if (obj.metadata?.name === 'f' && obj.data?.a === '2') seen();
    });
    await informers.start();
    const ref = core('configmaps', ns);
    const from = (await m.client.create<ConfigMap>(ref, { metadata: { name: 'f' }, data: { a: '1' } } as ConfigMap)).metadata?.resourceVersion ?? '';
    const viaApi = collect(m.client, ref, from, 1);
    await m.client.patch(core('configmaps', ns, 'f'), 'merge', { data: { a: '2' } });
    await watched;
    const cached = informer.get(`${ns}/f`) as ConfigMap & KubeObject;
    expect(() => {
      (cached.data as Record<string, string>).a = 'changed by a reader';
    }).toThrow(TypeError);
    expect(cached.metadata?.managedFields).toBeUndefined();
    const [event] = await viaApi;
    expect((event.object as ConfigMap).data).toEqual({ a: '2' });
    expect(event.object.metadata?.managedFields?.length).toBeGreaterThan(0);
    informers.stop();
  });
});
