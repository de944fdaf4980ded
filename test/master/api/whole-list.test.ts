import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { KubeClient } from '../../../kube/client';
import { Selector } from '../../../kube/label-selector';
import { ItemPages, type Items } from '../../../master/api/item-pages';
import { WHOLE_ANSWER_MAX, type Obj } from '../../../master/api/registry';
import { WireText } from '../../../master/api/wire-text';
import { SCAN_PAGE_SIZE } from '../../../master/store/store';
import { resources, type ResourceInfo } from '../../../master/api/resources';
import { core } from '../../../kube/resource-path';
import { rawRequest } from '../../support/https-raw';
import { useSqliteRegistry } from '../../support/sqlite-registry';
import { startTestMaster, storeKinds, type TestMaster } from '../../support/master';

jest.setTimeout(120_000);

type ConfigMap = { metadata: { name: string; namespace: string; resourceVersion: string }; data: Record<string, string> };
const id = (c: ConfigMap): string => `${c.metadata.namespace}/${c.metadata.name}@${c.metadata.resourceVersion}`;

/**
 * A list without a selector or a limit is read from the store a page at a time as it is written
 * (Store.scan, ItemPages): it must still answer as one read at one revision.
 */
describe.each(storeKinds)('lists of everything, read in pages (%s)', (store) => {
  let m: TestMaster;
  let client: KubeClient;

  beforeAll(async () => {
    m = await startTestMaster({ store });
    client = new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken, http2: true });
    for (const ns of ['whole-a', 'whole-b']) await client.create(core('namespaces'), { metadata: { name: ns } } as never);
    const names = Array.from({ length: 1_200 }, (_, i) => i);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => client.create(core('configmaps', n % 3 ? 'whole-a' : 'whole-b'), { metadata: { name: `cm-${String(n).padStart(4, '0')}`, labels: { parity: n % 2 ? 'odd' : 'even' } }, data: { v: '0', pad: 'x'.repeat(n % 3 ? 2_000 : 64_000) } } as never)));
    }
  });

  afterAll(async () => {
    client.close();
    await m.stop();
  });

  /** Every configmap of the scope through pages of `limit`, as kubectl reads them. */
  async function inChunks(namespace: string | undefined, limit: number, labelSelector?: string): Promise<ConfigMap[]> {
    const items: ConfigMap[] = [];
    let cont: string | undefined;
    do {
      const page = await client.list<never>(core('configmaps', namespace), { limit, continue: cont, labelSelector });
      items.push(...(page.items as ConfigMap[]));
      cont = page.metadata.continue || undefined;
    } while (cont);
    return items;
  }

  test('the answer holds what a paginated list holds, cluster-wide and in a namespace, and as a Table', async () => {
    for (const namespace of [undefined, 'whole-a', 'whole-b']) {
      const whole = await client.list<never>(core('configmaps', namespace));
      expect(whole.kind).toBe('ConfigMapList');
      expect((whole.items as ConfigMap[]).map(id)).toEqual((await inChunks(namespace, 100)).map(id));
      expect(Number(whole.metadata.resourceVersion)).toBeGreaterThan(0);
    }
    // Longer than WHOLE_ANSWER_MAX: its rows are made a page at a time too.
    const table = await rawRequest(m.url, m.caPem, 'GET', '/api/v1/configmaps', { token: m.adminToken, headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    expect(table.status).toBe(200);
    const asTable = JSON.parse(table.body) as { kind: string; rows: { cells: unknown[] }[] };
    expect(asTable.kind).toBe('Table');
    expect(asTable.rows.map((r) => r.cells[0])).toEqual((await inChunks(undefined, 500)).map((c) => c.metadata.name));
  });

  test('a list passed on as the stored text is, object for object, what a paginated list decodes', async () => {
    for (const namespace of [undefined, 'whole-b']) {
      const whole = await client.list<never>(core('configmaps', namespace));
      expect(whole.items).toEqual(await inChunks(namespace, 500));
    }
  });

  test('a selective list without a limit holds what a paginated one holds, with more matches than a page', async () => {
    for (const namespace of [undefined, 'whole-a']) {
      for (const labelSelector of ['parity=even', 'parity in (odd)', 'parity']) {
        const whole = await client.list<never>(core('configmaps', namespace), { labelSelector });
        expect((whole.items as ConfigMap[]).length).toBeGreaterThan(260);
        expect((whole.items as ConfigMap[]).map(id)).toEqual((await inChunks(namespace, 100, labelSelector)).map(id));
      }
    }
  });

  test('objects changed while the answer is written are as they were at its resourceVersion', async () => {
    const before = await inChunks(undefined, 500);
    expect(before.length).toBeGreaterThan(WHOLE_ANSWER_MAX);
    // A client that reads nothing until 200 patches are done: the answer (~25 MB, whole-b's last)
    // is more than the master buffers (4 MiB) and the sockets hold, so the master is mid-scan meanwhile.
    const reading = pausedList(m, '/api/v1/configmaps');
    await reading.started;
    const changed = before.filter((c) => c.metadata.namespace === 'whole-b').reverse().slice(0, 200).map((c) => c.metadata.name);
    for (const name of changed) await client.patch(core('configmaps', 'whole-b', name), 'merge', { data: { v: '1' } });
    const listed = JSON.parse(await reading.rest()) as { metadata: { resourceVersion: string }; items: ConfigMap[] };
    const rv = Number(listed.metadata.resourceVersion);
    const named = (c: ConfigMap): string => `${c.metadata.namespace}/${c.metadata.name}`;
    expect(listed.items.map(named)).toEqual(before.map(named));
    for (const c of listed.items) expect(Number(c.metadata.resourceVersion)).toBeLessThanOrEqual(rv);
    // Every patch came after the list's revision: none of them shows.
    expect(listed.items.filter((c) => c.data?.v === '1').map(named)).toEqual([]);
    expect(Number((await client.get(core('configmaps', 'whole-b', changed[0]))).metadata?.resourceVersion)).toBeGreaterThan(rv);
  });
});

/** A GET whose client reads nothing until rest(), which reads the whole body. */
function pausedList(m: TestMaster, path: string): { started: Promise<void>; rest(): Promise<string> } {
  const url = new URL(m.url);
  let response!: (res: IncomingMessage) => void;
  const got = new Promise<IncomingMessage>((resolve) => (response = resolve));
  const req = https.request({ host: url.hostname, port: url.port, path, ca: m.caPem, headers: { authorization: `Bearer ${m.adminToken}` } }, (res) => {
    res.pause();
    response(res);
  });
  req.end();
  return {
    started: got.then(() => undefined),
    rest: async () => {
      const res = await got;
      const chunks: Buffer[] = [];
      return new Promise((resolve, reject) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
        res.resume();
      });
    },
  };
}

describe('Registry.scan', () => {
  const state = useSqliteRegistry('registry-scan');
  const configmaps = resources.find((r) => r.plural === 'configmaps') as ResourceInfo;

  /** Every item of a scan's answer, reading its pages. */
  async function all(items: Items<Obj>): Promise<Obj[]> {
    if (Array.isArray(items)) return items;
    const got: Obj[] = [];
    for (let page = await items.next(); page; page = await items.next()) got.push(...page);
    return got;
  }

  test('a list of up to WHOLE_ANSWER_MAX objects is answered whole, at once, however many pages it spans; a longer one in pages, with the same items a list gives', async () => {
    const { registry } = state;
    // 'short' is more than a store page, 'long' the rest up to WHOLE_ANSWER_MAX + 10: both
    // namespaces are whole answers, the cluster-wide list is in pages.
    const shortCount = SCAN_PAGE_SIZE + 10;
    for (let i = 0; i < WHOLE_ANSWER_MAX + 10; i++) await registry.create(configmaps, i < shortCount ? 'short' : 'long', { metadata: { name: `cm-${String(i).padStart(4, '0')}`, labels: { app: 'cm' } }, data: { i: String(i) } });
    for (const namespace of ['short', 'long']) {
      const whole = await registry.scan(configmaps, namespace);
      expect(Array.isArray(whole.items)).toBe(true);
      expect(await all(whole.items)).toEqual((await registry.list(configmaps, namespace)).items);
    }
    const paged = await registry.scan(configmaps, undefined);
    expect(paged.items).toBeInstanceOf(ItemPages);
    expect(await all(paged.items)).toEqual((await registry.list(configmaps, undefined)).items);
    expect(paged.resourceVersion).toBe((await registry.list(configmaps, undefined)).resourceVersion);
    // With a selector, from the list cache: the same rule.
    const labelSelector = Selector.parse('app=cm');
    const selectiveWhole = await registry.listAll(configmaps, 'short', { labelSelector });
    expect(Array.isArray(selectiveWhole.items)).toBe(true);
    expect(await all(selectiveWhole.items)).toEqual((await registry.list(configmaps, 'short', { labelSelector })).items);
    const selectivePaged = await registry.listAll(configmaps, undefined, { labelSelector });
    expect(selectivePaged.items).toBeInstanceOf(ItemPages);
    expect(await all(selectivePaged.items)).toEqual((await registry.list(configmaps, undefined, { labelSelector })).items);
  });

  test('listAllWire passes stored text on in wire form, and decodes what was not stored by the registry, in pages and whole', async () => {
    const { registry, store } = state;
    for (let i = 0; i < WHOLE_ANSWER_MAX + 10; i++) await registry.create(configmaps, 'wire', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: `cm-${String(i).padStart(4, '0')}` }, data: { i: String(i), q: 'a "quoted" \\ é' } });
    // Written by something other than the registry: kind before apiVersion, a resourceVersion
    // kept in the stored metadata, another apiVersion (all three decoded), and empty metadata
    // (passed on, its resourceVersion the only key).
    const odd: Record<string, Record<string, unknown>> = {
      'cm-0003': { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm-0003', namespace: 'wire' }, data: { odd: 'kind first' } },
      'cm-0500': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-0500', namespace: 'wire', resourceVersion: '1' }, data: { odd: 'stale resourceVersion' } },
      'cm-0700': { apiVersion: 'v1', kind: 'ConfigMap', metadata: {}, data: { odd: 'empty metadata' } },
      'cm-0900': { apiVersion: 'v0', kind: 'ConfigMap', metadata: { name: 'cm-0900', namespace: 'wire' } },
    };
    for (const [name, value] of Object.entries(odd)) await store.update(`/registry/core/configmaps/wire/${name}`, value);
    const decoded = (await registry.list(configmaps, 'wire')).items;
    expect(decoded.find((c) => c.metadata?.name === 'cm-0500')?.metadata?.resourceVersion).not.toBe('1');
    const paged = await registry.listAllWire(configmaps, 'wire', {});
    expect(paged.items).toBeInstanceOf(ItemPages);
    const got = await all(paged.items as Items<Obj>);
    expect(got.filter((item) => !(item instanceof WireText)).map((item) => item.metadata?.name)).toEqual(['cm-0003', 'cm-0500', 'cm-0900']);
    expect(JSON.parse(JSON.stringify(got))).toEqual(decoded);
    for (let i = 0; i < 3; i++) await registry.create(configmaps, 'wire-short', { metadata: { name: `cm-${i}` } });
    const whole = await registry.listAllWire(configmaps, 'wire-short', {});
    expect(Array.isArray(whole.items) && whole.items.every((item) => item instanceof WireText)).toBe(true);
    expect(JSON.parse(JSON.stringify(whole.items))).toEqual((await registry.list(configmaps, 'wire-short')).items);
  });

  test('listWire gives the pages list gives (items, continue tokens, resourceVersion), the items in wire form', async () => {
    const { registry } = state;
    for (let i = 0; i < 30; i++) await registry.create(configmaps, 'pages', { metadata: { name: `cm-${String(i).padStart(2, '0')}` }, data: { i: String(i) } });
    await registry.create(configmaps, 'pages-after', { metadata: { name: 'beyond' } });
    for (const limit of [7, 10, 0]) {
      let continueToken: string | undefined;
      let pages = 0;
      do {
        const decoded = await registry.list(configmaps, 'pages', { limit, continueToken });
        const wire = await registry.listWire(configmaps, 'pages', { limit, continueToken });
        expect(wire.items.every((item) => item instanceof WireText)).toBe(true);
        expect(JSON.parse(JSON.stringify(wire.items))).toEqual(decoded.items);
        expect([wire.continueToken, wire.resourceVersion]).toEqual([decoded.continueToken, decoded.resourceVersion]);
        continueToken = decoded.continueToken;
        pages++;
      } while (continueToken);
      expect(pages).toBe(limit ? Math.ceil(30 / limit) : 1);
    }
  });
});
