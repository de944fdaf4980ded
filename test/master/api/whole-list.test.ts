import { KubeClient } from '../../../kube/client';
import { core } from '../../../kube/resource-path';
import { rawRequest } from '../../support/https-raw';
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
      await Promise.all(names.slice(i, i + 50).map((n) => client.create(core('configmaps', n % 3 ? 'whole-a' : 'whole-b'), { metadata: { name: `cm-${String(n).padStart(4, '0')}` }, data: { v: '0', pad: 'x'.repeat(2_000) } } as never)));
    }
  });

  afterAll(async () => {
    client.close();
    await m.stop();
  });

  /** Every configmap of the scope through pages of `limit`, as kubectl reads them. */
  async function inChunks(namespace: string | undefined, limit: number): Promise<ConfigMap[]> {
    const items: ConfigMap[] = [];
    let cont: string | undefined;
    do {
      const page = await client.list<never>(core('configmaps', namespace), { limit, continue: cont });
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
    const table = await rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/whole-a/configmaps', { token: m.adminToken, headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    expect(table.status).toBe(200);
    const asTable = JSON.parse(table.body) as { kind: string; rows: { cells: unknown[] }[] };
    expect(asTable.kind).toBe('Table');
    expect(asTable.rows.map((r) => r.cells[0])).toEqual((await inChunks('whole-a', 500)).map((c) => c.metadata.name));
  });

  test('objects changed while the answer is written are as they were at its resourceVersion', async () => {
    const before = await inChunks('whole-b', 500);
    const listed = client.list<never>(core('configmaps', 'whole-b'));
    // Changes from the last configmap backwards, while the list is being written from the first.
    const changedBeforeListEnded: string[] = [];
    let listEnded = false;
    void listed.finally(() => (listEnded = true));
    const changes = (async () => {
      for (const c of [...before].reverse().slice(0, 200)) {
        await client.patch(core('configmaps', 'whole-b', c.metadata.name), 'merge', { data: { v: '1' } });
        if (!listEnded) changedBeforeListEnded.push(c.metadata.name);
      }
    })();
    const whole = (await listed).items as ConfigMap[];
    await changes;
    // The test means something only if writes landed while the list was written.
    expect(changedBeforeListEnded.length).toBeGreaterThan(0);
    const rv = Number((await listed).metadata.resourceVersion);
    expect(whole.map((c) => c.metadata.name)).toEqual(before.map((c) => c.metadata.name));
    for (const c of whole) expect(Number(c.metadata.resourceVersion)).toBeLessThanOrEqual(rv);
    const changedAfter = whole.filter((c) => c.data.v === '1');
    // What it holds changed is what was changed before its revision: the first changes, never a later one.
    expect(changedAfter.map((c) => c.metadata.name)).toEqual(changedBeforeListEnded.slice(0, changedAfter.length).sort());
  });
});
