import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster, type RunningMaster } from '../../../master/server';
import { EtcdStore } from '../../../master/store/etcd-store';
import { StoreError } from '../../../master/store/store';
import { startEtcd, type RunningEtcd } from '../../support/etcd';
import { rawRequest } from '../../support/https-raw';
import { ReadyzProber } from '../../support/readyz-prober';

jest.setTimeout(120_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('etcd: oversized writes and stalls', () => {
  let etcd: RunningEtcd;
  let store: EtcdStore;

  beforeAll(async () => {
    etcd = await startEtcd();
    store = new EtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/stall-test', callTimeoutMs: 1500, listTimeoutMs: 3500 });
  });
  afterAll(async () => {
    await store?.close();
    await etcd?.stop();
  });

  test('writes etcd refuses as too large are TooLarge and never trip the circuit breaker', async () => {
    await store.create('/small', { a: 1 });
    for (const size of [2.5 * 1024 * 1024, 1.6 * 1024 * 1024]) {
      for (let i = 0; i < 5; i++) {
        const err = await store.update('/small', { big: 'x'.repeat(size) }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect((err as StoreError).code).toBe('TooLarge');
        expect((err as StoreError).message).toMatch(/too large/);
        // The very next call goes through: an open breaker would fail it at once.
        expect((await store.get('/small'))?.value).toEqual({ a: 1 });
      }
    }
  });

  test('a stalled etcd (SIGSTOP) makes calls fail with Timeout within the call deadline', async () => {
    etcd.signal('SIGSTOP');
    try {
      const started = Date.now();
      const err = await store.get('/small').catch((e: unknown) => e);
      expect((err as StoreError).code).toBe('Timeout');
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      etcd.signal('SIGCONT');
    }
    expect((await store.get('/small'))?.value).toEqual({ a: 1 });
  });

  // A list of every pod under load takes etcd seconds; the list deadline is its own.
  test('a list has the list deadline, not the call deadline', async () => {
    etcd.signal('SIGSTOP');
    try {
      const started = Date.now();
      const err = await store.list('/').catch((e: unknown) => e);
      const ms = Date.now() - started;
      expect((err as StoreError).code).toBe('Timeout');
      expect((err as StoreError).message).toMatch(/within 3500 ms/);
      expect(ms).toBeGreaterThanOrEqual(3000);
      expect(ms).toBeLessThan(5000);
    } finally {
      etcd.signal('SIGCONT');
    }
    expect((await store.list('/')).items.length).toBeGreaterThan(0);
  });
});

describe('a master on a stalled etcd', () => {
  let etcd: RunningEtcd;
  let m: RunningMaster;
  let dataDir: string;

  beforeAll(async () => {
    etcd = await startEtcd();
    dataDir = mkdtempSync(join(tmpdir(), 'lotse-stall-'));
    process.env.LOTSE_LOG_LEVEL ??= 'warn';
    m = await startMaster({ dataDir, listen: '127.0.0.1:0', store: `etcd://${etcd.hostPort}`, storeCallTimeoutMs: 1500, storeListTimeoutMs: 1500 });
  });
  afterAll(async () => {
    await m?.close();
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('requests get 504 within a bounded time, /readyz answers within 1 s throughout, and all recovers at SIGCONT', async () => {
    const get = (): Promise<{ status: number; ms: number }> => {
      const started = Date.now();
      return rawRequest(m.url, m.caPem, 'GET', '/api/v1/namespaces/default/configmaps', { token: m.adminToken, timeoutMs: 20_000 }).then((r) => ({ status: r.status, ms: Date.now() - started }));
    };
    expect((await get()).status).toBe(200);
    const prober = new ReadyzProber(m.url, m.caPem);
    await sleep(300);
    etcd.signal('SIGSTOP');
    let stalled: { status: number; ms: number }[] = [];
    try {
      stalled = await Promise.all([get(), get(), get()]);
      await sleep(2500);
    } finally {
      etcd.signal('SIGCONT');
    }
    const resumedAt = Date.now();
    for (const r of stalled) {
      expect(r.status).toBe(504);
      expect(r.ms).toBeLessThan(3000);
    }
    // Back within a few seconds, and no 503 on the way (no breaker left open after the stall).
    let after = await get();
    while (after.status !== 200 && Date.now() - resumedAt < 5000) {
      expect(after.status).not.toBe(503);
      await sleep(100);
      after = await get();
    }
    expect(after.status).toBe(200);
    await sleep(1500);
    const records = await prober.stop();
    expect(prober.slowest()).toBeLessThan(1000);
    const during = records.filter((r) => r.at > resumedAt - 1000 - 2500 && r.at < resumedAt);
    expect(during.some((r) => r.status === 503)).toBe(true); // it noticed the stall
    expect(records[records.length - 1].status).toBe(200); // and the end of it
    expect(records.every((r) => r.status === 200 || r.status === 503)).toBe(true);
  });
});

describe('a master on SQLite whose disk fills up', () => {
  const mount = mkdtempSync(join(tmpdir(), 'lotse-full-'));
  let m: RunningMaster | undefined;
  let dataDir: string;

  beforeAll(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount]);
    dataDir = mkdtempSync(join(tmpdir(), 'lotse-full-data-'));
    m = await startMaster({ dataDir, listen: '127.0.0.1:0', store: `sqlite:${join(mount, 'state.db')}` });
  });
  afterAll(async () => {
    await m?.close().catch(() => undefined);
    execFileSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('/readyz turns 503 when writes fail and 200 again when they succeed', async () => {
    const master = m as RunningMaster;
    const readyz = (): Promise<number> => rawRequest(master.url, master.caPem, 'GET', '/readyz').then((r) => r.status);
    expect(await readyz()).toBe(200);
    const filler = join(mount, 'filler');
    // dd stops with "No space left on device" once the tmpfs is full: that is the point.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=64'], { stdio: 'ignore' });
    } catch {
      // expected
    }
    const write = await rawRequest(master.url, master.caPem, 'POST', '/api/v1/namespaces/default/configmaps', { token: master.adminToken, body: JSON.stringify({ metadata: { name: 'full' }, data: { a: 'x'.repeat(200_000) } }) });
    expect(write.status).toBeGreaterThanOrEqual(500);
    let status = await readyz();
    for (let i = 0; i < 30 && status === 200; i++) {
      await sleep(100);
      status = await readyz();
    }
    expect(status).toBe(503);
    unlinkSync(filler);
    for (let i = 0; i < 30 && status !== 200; i++) {
      await sleep(100);
      status = await readyz();
    }
    expect(status).toBe(200);
  });
});
