import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore, parseStoreSpec } from '../../../master/store/open-store';
import { Store } from '../../../master/store/store';
import { RunningEtcd, startEtcd } from '../../support/etcd';

describe('parseStoreSpec', () => {
  const dataDir = '/var/lib/lotse';

  test('sqlite forms', () => {
    expect(parseStoreSpec('sqlite:/data/x.db', { dataDir })).toEqual({ kind: 'sqlite', path: '/data/x.db' });
    expect(parseStoreSpec('sqlite:rel/x.db', { dataDir })).toEqual({ kind: 'sqlite', path: resolve('rel/x.db') });
    expect(parseStoreSpec('sqlite', { dataDir })).toEqual({ kind: 'sqlite', path: '/var/lib/lotse/state.db' });
  });

  test('etcd forms: several hosts, default port, IPv6, key prefix, https with a CA', () => {
    expect(parseStoreSpec('etcd://10.0.0.2:2379,10.0.0.3:2380', { dataDir })).toEqual({
      kind: 'etcd',
      endpoints: ['http://10.0.0.2:2379', 'http://10.0.0.3:2380'],
      keyPrefix: '',
    });
    expect(parseStoreSpec('etcd://master-0,[::1]:12379/lotse/', { dataDir, etcdCa: '/ca.crt' })).toEqual({
      kind: 'etcd',
      endpoints: ['https://master-0:2379', 'https://[::1]:12379'],
      keyPrefix: '/lotse',
    });
  });

  test.each([
    ['postgres://x', /sqlite:PATH or etcd:\/\//],
    ['etcd://', /no etcd host/],
    ['etcd://a:b', /is not HOST:PORT/],
    ['etcd://a:70000', /out of range/],
    ['etcd://a:1,,b:2', /is not HOST:PORT/],
    ['sqlite://x.db', /not a URL/],
  ])('rejects %s', (spec, message) => {
    expect(() => parseStoreSpec(spec, { dataDir })).toThrow(message);
  });
});

describe('openStore', () => {
  let dir: string;
  let etcd: RunningEtcd | undefined;
  const opened: Store[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lotse-open-store-'));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sqlite in the data dir, creating missing folders', async () => {
    const store = await openStore('sqlite', { dataDir: join(dir, 'new', 'dir') });
    opened.push(store);
    expect(store.kind).toBe('sqlite');
    expect(await store.create('/k', { v: 1 })).toBe(1);
  });

  test('etcd over mutual TLS from files, and a clear error when the key is missing', async () => {
    etcd = await startEtcd({ tls: true });
    const tls = etcd.tls!;
    const store = await openStore(`etcd://${etcd.hostPort}/t`, { dataDir: dir, etcdCa: tls.ca, etcdCert: tls.cert, etcdKey: tls.key });
    opened.push(store);
    expect(store.kind).toBe('etcd');
    await store.create('/k', { v: 1 });
    expect((await store.get('/k'))?.value).toEqual({ v: 1 });
    await expect(openStore(`etcd://${etcd.hostPort}`, { dataDir: dir, etcdCa: tls.ca, etcdCert: tls.cert })).rejects.toThrow(
      /--etcd-cert and --etcd-key go together/,
    );
    await expect(openStore(`etcd://${etcd.hostPort}`, { dataDir: dir, etcdCa: join(dir, 'nope.crt') })).rejects.toThrow(
      /cannot read --etcd-ca/,
    );
  });

  test('an etcd that is not there fails at open, naming the spec', async () => {
    await expect(openStore('etcd://127.0.0.1:1', { dataDir: dir })).rejects.toThrow(/cannot use the store etcd:\/\/127.0.0.1:1/);
  });
});
