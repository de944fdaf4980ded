import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeReferences } from '../../../master/auth/node-references';
import { SqliteStore } from '../../../master/store/sqlite-store';
import { StoreError, type Store, type WatchHandlers } from '../../../master/store/store';

const PREFIX = '/registry/core/pods/';

function pod(name: string, nodeName: string | undefined, secret: string, configMap: string): Record<string, unknown> {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName,
      containers: [{ name: 'c', image: 'i', envFrom: [{ configMapRef: { name: configMap } }] }],
      volumes: [{ name: 's', secret: { secretName: secret } }],
    },
  };
}

/** A "yes" that a write took away lasts until the watch delivers that write: wait for it. */
async function eventually(refs: NodeReferences, want: boolean, ...q: Parameters<NodeReferences['has']>): Promise<void> {
  const deadline = Date.now() + 3000;
  while ((await refs.has(...q)) !== want) {
    if (Date.now() > deadline) throw new Error(`has(${q.join(', ')}) stayed ${!want}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the node reference index', () => {
  let dir: string;
  let store: SqliteStore;
  let refs: NodeReferences;
  const errors: Error[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lotse-node-refs-'));
    store = new SqliteStore(join(dir, 'state.db'));
    refs = new NodeReferences(store, PREFIX, (err) => errors.push(err));
  });
  afterEach(async () => {
    refs.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the pods there are, then follows binding, rebinding and deletion from the watch', async () => {
    await store.create(`${PREFIX}default/a`, pod('a', 'n1', 's1', 'c1'));
    await store.create(`${PREFIX}default/pending`, pod('pending', undefined, 's2', 'c2'));
    expect(await refs.has('n1', 'default', 'secrets', 's1')).toBe(true);
    expect(await refs.has('n1', 'default', 'configMaps', 'c1')).toBe(true);
    expect(await refs.has('n1', 'default', 'configMaps', 's1')).toBe(false); // kinds are apart
    expect(await refs.has('n1', 'kube-system', 'secrets', 's1')).toBe(false); // namespaces too
    expect(await refs.has('n2', 'default', 'secrets', 's1')).toBe(false);
    expect(await refs.has('n1', 'default', 'secrets', 's2')).toBe(false); // not bound yet

    // A "no" waits for the writes made before the question: a pod bound just now counts at once.
    await store.update(`${PREFIX}default/pending`, pod('pending', 'n1', 's2', 'c2'));
    expect(await refs.has('n1', 'default', 'secrets', 's2')).toBe(true);
    // Two pods share s1; the reference stays until the last of them is gone.
    await store.create(`${PREFIX}default/b`, pod('b', 'n1', 's1', 'c1'));
    await store.update(`${PREFIX}default/a`, pod('a', 'n2', 's1', 'c1'));
    expect(await refs.has('n2', 'default', 'secrets', 's1')).toBe(true);
    expect(await refs.has('n1', 'default', 'secrets', 's1')).toBe(true);
    await store.delete(`${PREFIX}default/b`);
    await eventually(refs, false, 'n1', 'default', 'secrets', 's1');
    expect(await refs.has('n1', 'default', 'configMaps', 'c1')).toBe(false);
    expect(errors).toEqual([]);
  });

  it('lists again on the next question after its watch ends, and cannot tell while it lags', async () => {
    // A store whose watches the test can end, as a compaction or a lost backend would.
    const live: { stop(): void; handlers: WatchHandlers }[] = [];
    const ending: Store = new Proxy(store, {
      get(target, prop) {
        if (prop === 'watch') return (prefix: string, rev: number, handlers: WatchHandlers) => {
          const w = target.watch(prefix, rev, handlers);
          live.push({ stop: () => w.stop(), handlers });
          return w;
        };
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    refs.stop();
    refs = new NodeReferences(ending, PREFIX, (err) => errors.push(err), 100);
    await store.create(`${PREFIX}default/a`, pod('a', 'n1', 's1', 'c1'));
    expect(await refs.has('n1', 'default', 'secrets', 's1')).toBe(true);
    const gone = new StoreError('Gone', 'the watch revision was compacted');
    live[0].stop();
    live[0].handlers.onError(gone);
    // Nothing watches now: only a fresh list can know about b.
    await store.create(`${PREFIX}default/b`, pod('b', 'n1', 's3', 'c3'));
    expect(await refs.has('n1', 'default', 'secrets', 's3')).toBe(true);
    expect(live).toHaveLength(2);
    expect(errors).toEqual([gone]);
    // A watch that silently stops delivering: a "no" cannot be given, so the caller asks the store.
    live[1].stop();
    await store.create(`${PREFIX}default/c`, pod('c', 'n1', 's4', 'c4'));
    expect(await refs.has('n1', 'default', 'secrets', 's4')).toBeUndefined();
    expect(await refs.has('n1', 'default', 'secrets', 's1')).toBe(true); // what it knows, it still says
  });
});
