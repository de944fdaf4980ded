import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint, hostId, verifyHostKey } from '../../bootstrap/host-keys';

/** An ssh-ed25519 public key blob in SSH wire format. */
function ed25519Blob(): Buffer {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

describe('host key verification', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lotse-hostkeys-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('pins a key on first use, says so, and accepts it again', () => {
    const pinned = join(dir, 'known_hosts');
    const key = ed25519Blob();
    const notices: string[] = [];
    const opts = { pinnedHosts: pinned, onPinned: (c: { fingerprint: string }, h: string) => void notices.push(`${h} ${c.fingerprint}`) };
    verifyHostKey('m1', hostId('10.0.0.1', 22), key, opts);
    expect(notices).toEqual([`m1 ${fingerprint(key)}`]);
    expect(readFileSync(pinned, 'utf8')).toMatch(/^10\.0\.0\.1 ssh-ed25519 \S+\n$/);
    expect(statSync(pinned).mode & 0o777).toBe(0o600);
    verifyHostKey('m1', hostId('10.0.0.1', 22), key, opts);
    expect(notices).toHaveLength(1);
  });

  test('a changed key stops with a warning naming the host and both fingerprints', () => {
    const pinned = join(dir, 'known_hosts');
    const [old, now] = [ed25519Blob(), ed25519Blob()];
    const opts = { pinnedHosts: pinned, onPinned: () => undefined };
    verifyHostKey('w1', hostId('10.0.0.2', 2222), old, opts);
    expect(() => verifyHostKey('w1', hostId('10.0.0.2', 2222), now, opts)).toThrow(
      new RegExp(`host key of w1 \\(\\[10\\.0\\.0\\.2\\]:2222\\) has CHANGED[\\s\\S]*expected: ssh-ed25519 ${fingerprint(old).replace(/[+/]/g, '\\$&')}[\\s\\S]*presented: ssh-ed25519 ${fingerprint(now).replace(/[+/]/g, '\\$&')}`),
    );
  });

  test('with a known_hosts file, unknown hosts are refused and hashed entries match', () => {
    const known = join(dir, 'user_known_hosts');
    const key = ed25519Blob();
    const { createHmac, randomBytes } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('10.0.0.3').digest('base64')}`;
    writeFileSync(known, `${hashed} ssh-ed25519 ${key.toString('base64')}\n`);
    const opts = { knownHosts: known, pinnedHosts: join(dir, 'pinned'), onPinned: () => undefined };
    expect(verifyHostKey('w2', '10.0.0.3', key, opts).fingerprint).toBe(fingerprint(key));
    expect(() => verifyHostKey('w3', '10.0.0.4', key, opts)).toThrow(/host key of w3 \(10\.0\.0\.4, ssh-ed25519 SHA256:\S+\) is not in .*user_known_hosts/);
  });
});
