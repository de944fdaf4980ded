import { readFileSync } from 'node:fs';
import { EtcdStore } from '../../../master/store/etcd-store';
import { StoreError } from '../../../master/store/store';
import { RunningEtcd, startEtcd } from '../../support/etcd';
import { describeStoreConformance, EventLog, expectStoreError } from './conformance';

let plain: RunningEtcd | undefined;
let tls: RunningEtcd | undefined;
let prefixCounter = 0;

beforeAll(async () => {
  [plain, tls] = await Promise.all([startEtcd(), startEtcd({ tls: true })]);
}, 30_000);
afterAll(async () => {
  await Promise.all([plain?.stop(), tls?.stop()]);
});

function running(etcd: RunningEtcd | undefined): RunningEtcd {
  if (!etcd) throw new Error('etcd did not start; see the beforeAll error');
  return etcd;
}

function tlsFiles(etcd: RunningEtcd): { ca: Buffer; cert: Buffer; key: Buffer } {
  const files = etcd.tls;
  if (!files) throw new Error('this etcd was started without TLS');
  return { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key) };
}

function freshPrefix(): string {
  prefixCounter += 1;
  return `/lotse-test-${prefixCounter}`;
}

describeStoreConformance('etcd', async () => new EtcdStore({ endpoints: [running(plain).endpoint], keyPrefix: freshPrefix() }));

describeStoreConformance(
  'etcd over mutual TLS',
  async () => new EtcdStore({ endpoints: [running(tls).endpoint], tls: tlsFiles(running(tls)), keyPrefix: freshPrefix() }),
);

describe('etcd store specifics', () => {
  const opened: EtcdStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  const open = (options: Partial<ConstructorParameters<typeof EtcdStore>[0]> = {}): EtcdStore => {
    const store = new EtcdStore({ endpoints: [running(plain).endpoint], ...options });
    opened.push(store);
    return store;
  };

  test('key prefixes isolate two stores sharing one etcd', async () => {
    const a = open({ keyPrefix: '/cluster-a' });
    const b = open({ keyPrefix: '/cluster-b' });
    await a.create('/registry/pods/x', { owner: 'a' });
    await expect(b.get('/registry/pods/x')).resolves.toBeUndefined();
    await b.create('/registry/pods/x', { owner: 'b' });
    const listed = await a.list('/registry/');
    expect(listed.items.map((item) => [item.key, item.value])).toEqual([['/registry/pods/x', { owner: 'a' }]]);
    const events = new EventLog();
    const watch = events.watch(b, '/registry/', listed.revision - 2);
    const rev = await b.update('/registry/pods/x', { owner: 'b2' });
    await events.waitForRevision(rev);
    watch.stop();
    expect(events.events.map((event) => event.key)).toEqual(['/registry/pods/x', '/registry/pods/x']);
  });

  test('watches on one prefix share one etcd watch; one from before its history gets its own; the last to stop ends it', async () => {
    const store = open({ keyPrefix: freshPrefix() });
    const early = await store.create('/pods/early', { spec: { nodeName: 'n0' } });
    const start = await store.create('/pods/start', { spec: { nodeName: 'n0' } });
    const logs = Array.from({ length: 200 }, () => new EventLog());
    const watches = logs.map((log, i) => log.watch(store, '/pods/', start, { trigger: { field: 'spec.nodeName', value: `n${i % 10}` } }));
    expect(store.watchCount).toBe(1);
    const behind = new EventLog();
    const behindWatch = behind.watch(store, '/pods/', early - 1);
    expect(store.watchCount).toBe(2);
    const revisions: number[] = [];
    for (let i = 0; i < 20; i++) revisions.push(await store.create(`/pods/p${i}`, { spec: { nodeName: `n${i % 10}` } }));
    await logs[9].waitForRevision(revisions[19]);
    // A latecomer from a revision the shared watch has seen starts from its history, no new etcd watch.
    const late = new EventLog();
    const lateWatch = late.watch(store, '/pods/', revisions[9]);
    expect(store.watchCount).toBe(2);
    const last = await store.create('/pods/last', { spec: { nodeName: 'n3' } });
    await Promise.all([logs[3], behind, late].map((log) => log.waitForRevision(last)));
    for (const [i, log] of logs.slice(0, 10).entries()) expect(log.events.map((e) => e.revision)).toEqual(revisions.filter((_, j) => j % 10 === i).concat(i === 3 ? [last] : []));
    expect(behind.events.map((e) => e.revision)).toEqual([early, start, ...revisions, last]);
    expect(late.events.map((e) => e.revision)).toEqual([...revisions.slice(10), last]);
    for (const w of [...watches, behindWatch, lateWatch]) w.stop();
    expect(store.watchCount).toBe(0);
  });

  test('a list larger than gRPC\'s default 4 MiB message limit works', async () => {
    const store = open({ keyPrefix: freshPrefix() });
    // etcd accepts requests up to 1.5 MiB by default, so six 1 MiB values make a 6 MiB list.
    const big = 'x'.repeat(1024 * 1024);
    await Promise.all(Array.from({ length: 6 }, (_, i) => store.create(`/big/${i}`, { i, big })));
    const listed = await store.list('/big/');
    expect(listed.items.map((item) => item.value.i)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('several endpoints are accepted (a dead one next to a live one)', async () => {
    const store = open({ endpoints: ['http://127.0.0.1:1', running(plain).endpoint], keyPrefix: freshPrefix() });
    for (let i = 0; i < 4; i += 1) await store.create(`/multi/${i}`, { i });
    expect((await store.list('/multi/')).items).toHaveLength(4);
  });

  test('an unreachable etcd gives StoreError Unavailable naming the endpoint', async () => {
    const store = open({ endpoints: ['http://127.0.0.1:1'], dialTimeoutMs: 300 });
    const err = await store.get('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('Unavailable');
    expect((err as StoreError).message).toContain('127.0.0.1:1');
  });

  test('a TLS etcd refuses a client without a certificate', async () => {
    const etcd = running(tls);
    const store = new EtcdStore({ endpoints: [etcd.endpoint], tls: { ca: tlsFiles(etcd).ca }, dialTimeoutMs: 1000 });
    opened.push(store);
    await expectStoreError(store.get('/x'), 'Unavailable');
  });
});

describe('etcd store across an etcd restart', () => {
  test('a running watch resumes after etcd is killed and restarted, losing and repeating nothing', async () => {
    const etcd = await startEtcd();
    const store = new EtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/restart' });
    try {
      const from = await store.revision();
      const log = new EventLog();
      const watch = log.watch(store, '/k/', from);
      const acknowledged: number[] = [];
      for (let i = 0; i < 20; i += 1) acknowledged.push(await store.create(`/k/${i}`, { i }));
      await log.waitForRevision(acknowledged[acknowledged.length - 1]);
      await etcd.restart();
      for (let i = 20; i < 40; i += 1) acknowledged.push(await createRetrying(store, `/k/${i}`, { i }));
      await log.waitForRevision(acknowledged[acknowledged.length - 1], 20_000);
      watch.stop();
      expect(log.errors).toEqual([]);
      expect(log.events.map((event) => event.revision)).toEqual(acknowledged);
    } finally {
      await store.close();
      await etcd.stop();
    }
  });
});

/** Creates through a reconnecting client; a retry that finds the key reports the first attempt's revision. */
async function createRetrying(store: EtcdStore, key: string, value: Record<string, unknown>): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await store.create(key, value);
    } catch (err) {
      if (err instanceof StoreError && err.code === 'AlreadyExists') {
        const existing = await store.get(key);
        if (existing) return existing.createRevision;
      }
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
