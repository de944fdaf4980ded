import { KubeClient } from '../../../kube/client';
import type { WatchEvent } from '../../../kube/object';
import { rawRequest } from '../../support/https-raw';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };

function collect(client: KubeClient, query: Record<string, string | boolean | undefined>): { events: WatchEvent[]; errors: Error[]; stop: () => void; until: (pred: (e: WatchEvent[]) => boolean, ms?: number) => Promise<void> } {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  const handle = client.watch(cms, query as never, (e) => events.push(e), (err) => errors.push(err));
  return {
    events,
    errors,
    stop: () => handle.stop(),
    until: async (pred, ms = 10_000) => {
      const deadline = Date.now() + ms;
      while (!pred(events)) {
        if (Date.now() > deadline) throw new Error(`watch condition not met within ${ms} ms; events: ${events.map((e) => `${e.type}:${e.object.metadata?.name}`).join(' ')}; errors: ${errors.map((x) => x.message).join('; ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

describe.each(storeKinds)('watch semantics on %s', (store) => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster({ store });
  });
  afterAll(async () => {
    await m?.stop();
  });

  test('a watch from a list revision sees every later change once, in order', async () => {
    const list = await m.client.list(cms);
    const w = collect(m.client, { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: false });
    try {
      await Promise.all(Array.from({ length: 40 }, (_, i) => m.client.create(cms, { metadata: { name: `w-${i}` } })));
      for (let i = 0; i < 10; i++) await m.client.patch({ ...cms, name: `w-${i}` }, 'merge', { data: { v: String(i) } });
      await m.client.delete({ ...cms, name: 'w-0' });
      await w.until((e) => e.length >= 51);
      const added = w.events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata?.name);
      expect(new Set(added).size).toBe(40);
      expect(added.length).toBe(40);
      expect(w.events.filter((e) => e.type === 'MODIFIED')).toHaveLength(10);
      expect(w.events[w.events.length - 1]).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'w-0' } } });
      const rvs = w.events.map((e) => Number(e.object.metadata?.resourceVersion));
      expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    } finally {
      w.stop();
    }
  });

  test("a node's pod watch (spec.nodeName) gets the events of its pods only, from its initial list on; a bound pod cannot move", async () => {
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    const pod = (name: string, nodeName: string): never => ({ metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } }) as never;
    await m.client.create(pods, pod('listed-on-a', 'node-a'));
    const seen: WatchEvent[] = [];
    const handle = m.client.watch(pods, { resourceVersion: '0', fieldSelector: 'spec.nodeName=node-a', allowWatchBookmarks: false } as never, (e) => seen.push(e), () => undefined);
    const names = (): string[] => seen.map((e) => `${e.type}:${e.object.metadata?.name}`);
    try {
      const deadline = Date.now() + 10_000;
      const until = async (want: string): Promise<void> => {
        while (!names().includes(want)) {
          if (Date.now() > deadline) throw new Error(`no ${want} within 10 s; got ${names().join(' ')}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until('ADDED:listed-on-a');
      for (let i = 0; i < 5; i++) await m.client.create(pods, pod(`on-b-${i}`, 'node-b'));
      await m.client.create(pods, pod('on-a', 'node-a'));
      await m.client.patch({ ...pods, name: 'on-a' }, 'merge', { metadata: { labels: { seen: 'yes' } } });
      const move = await m.client.raw('PATCH', '/api/v1/namespaces/default/pods/listed-on-a', { spec: { nodeName: 'node-b' } }, 'application/merge-patch+json');
      expect(move.status).toBe(422);
      expect(move.body).toContain('spec.nodeName');
      await m.client.delete({ ...pods, name: 'listed-on-a' }, { gracePeriodSeconds: 0 });
      await until('DELETED:listed-on-a');
      expect(names()).toEqual(['ADDED:listed-on-a', 'ADDED:on-a', 'MODIFIED:on-a', 'DELETED:listed-on-a']);
    } finally {
      handle.stop();
    }
  });

  test('the open-watch gauge counts each watch once: back to 0 after timeouts, client closes and a refused resourceVersion', async () => {
    const metrics = async (): Promise<string> => (await rawRequest(m.url, m.caPem, 'GET', '/metrics', { token: m.adminToken })).body;
    const gauge = async (): Promise<number> => Number(/^apiserver_registered_watchers (-?\d+)$/m.exec(await metrics())?.[1]);
    // A watch's request is counted once, when it ends (the call that opened it returned long before).
    const watchRequests = async (code: number): Promise<number> => Number(new RegExp(`^apiserver_request_total\\{verb="WATCH",resource="configmaps",code="${code}"\\} (\\d+)$`, 'm').exec(await metrics())?.[1] ?? 0);
    const before = await gauge();
    const [ok, refused] = [await watchRequests(200), await watchRequests(400)];
    // Ends by itself after a second: the timeout and then the response's close both finish it.
    const timedOut = await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1', { token: m.adminToken, timeoutMs: 10_000 });
    expect(timedOut.status).toBe(200);
    const bad = await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=-4', { token: m.adminToken });
    expect(bad.status).toBe(400);
    const closed = collect(m.client, { resourceVersion: '0', allowWatchBookmarks: false });
    await m.client.create(cms, { metadata: { name: 'gauge' } });
    await closed.until((e) => e.some((x) => x.object.metadata?.name === 'gauge'));
    closed.stop();
    const deadline = Date.now() + 5000;
    while ((await gauge()) !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await gauge()).toBe(before);
    expect(await watchRequests(200)).toBe(ok + 2);
    expect(await watchRequests(400)).toBe(refused + 1);
  });

  test('a client that leaves while its watch waits for a resourceVersion leaves no watch behind', async () => {
    const gauge = async (): Promise<number> => Number(/^apiserver_registered_watchers (-?\d+)$/m.exec((await rawRequest(m.url, m.caPem, 'GET', '/metrics', { token: m.adminToken })).body)?.[1]);
    const before = await gauge();
    const list = await m.client.list(cms);
    const next = Number(list.metadata.resourceVersion) + 1;
    // The server waits up to 3 s for a revision it has not reached; the client gives up after 200 ms.
    const left = rawRequest(m.url, m.caPem, 'GET', `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${next}`, { token: m.adminToken, timeoutMs: 200 }).catch((err: Error) => err);
    expect(await left).toBeInstanceOf(Error);
    // The revision arrives after the client left: the server goes on to open the watch.
    await m.client.create(cms, { metadata: { name: 'after-leaving' } });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await gauge()).toBe(before);
  });

  test('label-selected watches report objects leaving the selection as DELETED', async () => {
    await m.client.create(cms, { metadata: { name: 'sel', labels: { keep: 'yes' } } });
    const list = await m.client.list(cms, { labelSelector: 'keep=yes' });
    const w = collect(m.client, { resourceVersion: '0', labelSelector: 'keep=yes', allowWatchBookmarks: false });
    try {
      await w.until((e) => e.some((x) => x.type === 'ADDED' && x.object.metadata?.name === 'sel'));
      expect(list.items).toHaveLength(1);
      await m.client.patch({ ...cms, name: 'sel' }, 'merge', { metadata: { labels: { keep: 'no' } } });
      await w.until((e) => e.some((x) => x.type === 'DELETED' && x.object.metadata?.name === 'sel'));
    } finally {
      w.stop();
    }
  });

  test('bookmarks carry the latest revision when asked for', async () => {
    const list = await m.client.list(cms);
    const w = collect(m.client, { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true });
    try {
      await m.client.create(cms, { metadata: { name: 'bm' } });
      await w.until((e) => e.some((x) => x.type === 'BOOKMARK' && Number(x.object.metadata?.resourceVersion) > Number(list.metadata.resourceVersion)), 5_000);
    } finally {
      w.stop();
    }
  });

  test('a watch narrowed to one name moves its bookmarks past writes to other objects (SQLite), never past one of its own events', async () => {
    const list = await m.client.list(cms);
    const w = collect(m.client, { resourceVersion: list.metadata.resourceVersion, fieldSelector: 'metadata.name=narrow', allowWatchBookmarks: true });
    try {
      const own = await m.client.create(cms, { metadata: { name: 'narrow' } });
      const other = await m.client.create(cms, { metadata: { name: 'elsewhere' } });
      const otherRv = Number(other.metadata?.resourceVersion);
      // SQLite reports its progress: the bookmark passes the later, unrelated write; etcd's stays at the watch's own event.
      const expected = store === 'sqlite' ? otherRv : Number(own.metadata?.resourceVersion);
      await w.until((e) => e.some((x) => x.type === 'BOOKMARK' && Number(x.object.metadata?.resourceVersion) >= expected), 5_000);
      // Every bookmark is at or past the events before it, and no event follows a bookmark past its revision.
      let mark = 0;
      for (const e of w.events) {
        const rv = Number(e.object.metadata?.resourceVersion);
        if (e.type === 'BOOKMARK') mark = Math.max(mark, rv);
        else expect(rv).toBeGreaterThan(mark);
      }
      expect(w.events.filter((e) => e.type !== 'BOOKMARK').map((e) => e.object.metadata?.name)).toEqual(['narrow']);
    } finally {
      w.stop();
    }
  });

  test('a compacted resourceVersion ends the watch with 410 Gone', async () => {
    const before = await m.client.list(cms);
    await m.client.create(cms, { metadata: { name: 'after-compaction' } });
    await m.store.compact(await m.store.revision());
    const w = collect(m.client, { resourceVersion: before.metadata.resourceVersion, allowWatchBookmarks: false });
    try {
      const deadline = Date.now() + 5000;
      while (w.errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(w.errors[0]).toMatchObject({ code: 410 });
    } finally {
      w.stop();
    }
  });
});
