import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../master/store/sqlite-store';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('the SQLite store is readable by its owner only, wherever it lives', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lotse-perm-'));
    chmodSync(dir, 0o755); // as a --store path outside the 0700 data dir may be
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a new state.db and its WAL are 0600 despite a 022 umask', async () => {
    const previous = process.umask(0o022);
    try {
      const store = new SqliteStore(join(dir, 'state.db'));
      await store.create('/registry/core/secrets/default/s', { data: { password: 'c2VjcmV0' } });
      expect(mode(join(dir, 'state.db'))).toBe(0o600);
      expect(mode(join(dir, 'state.db-wal'))).toBe(0o600);
      await store.close();
    } finally {
      process.umask(previous);
    }
  });

  test('an existing world-readable store is narrowed to 0600 when opened', async () => {
    const first = new SqliteStore(join(dir, 'old.db'));
    await first.create('/k', { a: 1 });
    await first.close();
    chmodSync(join(dir, 'old.db'), 0o644);
    writeFileSync(join(dir, 'old.db-wal'), '', { mode: 0o644 });
    chmodSync(join(dir, 'old.db-wal'), 0o644);
    const again = new SqliteStore(join(dir, 'old.db'));
    expect(mode(join(dir, 'old.db'))).toBe(0o600);
    expect(mode(join(dir, 'old.db-wal'))).toBe(0o600);
    expect((await again.get('/k'))?.value).toEqual({ a: 1 });
    await again.close();
  });
});

describe('the master speaks TLS 1.2+ with forward-secret AEAD suites only', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster();
  });
  afterAll(async () => {
    await m?.stop();
  });

  /** One real openssl s_client handshake (async: the master serves from this very process). */
  const handshake = (...args: string[]): Promise<{ ok: boolean; out: string }> =>
    new Promise((resolve) => {
      const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${m.port}`, '-servername', 'localhost', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        const cipher = /Cipher is (\S+)/.exec(out)?.[1];
        resolve({ ok: code === 0 && cipher !== undefined && cipher !== '(NONE)', out });
      });
    });

  test('AES128-SHA (no forward secrecy, CBC) and other non-AEAD suites are refused', async () => {
    for (const cipher of ['AES128-SHA', 'AES256-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'AES128-GCM-SHA256']) {
      const r = await handshake('-cipher', cipher, '-tls1_2');
      expect([cipher, r.ok]).toEqual([cipher, false]);
    }
  });

  test('ECDHE with AES-GCM or ChaCha20 over TLS 1.2, and TLS 1.3, are accepted; TLS 1.1 is not', async () => {
    for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
      const r = await handshake('-cipher', cipher, '-tls1_2');
      expect([cipher, r.ok, r.out.includes(cipher)]).toEqual([cipher, true, true]);
    }
    expect((await handshake('-tls1_3')).ok).toBe(true);
    expect((await handshake('-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0')).ok).toBe(false);
  });
});
