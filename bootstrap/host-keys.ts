import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** What a host presented, and what the run decided about it. */
export interface HostKeyCheck {
  /** The name the key is filed under: `addr`, or `[addr]:port` off port 22 (OpenSSH's form). */
  hostId: string;
  fingerprint: string;
  keyType: string;
}

export class HostKeyError extends Error {}

/** OpenSSH's fingerprint form: `SHA256:` + unpadded base64 of the key blob's SHA-256. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first string inside the SSH wire-format blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`...). */
export function keyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

export function hostId(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

interface KnownEntry {
  matches: (id: string) => boolean;
  keyType: string;
  key: Buffer;
  line: number;
}

function parseKnownHosts(path: string): KnownEntry[] {
  if (!existsSync(path)) return [];
  const entries: KnownEntry[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith('@')) return;
      const [hosts, type, key] = line.split(/\s+/);
      if (!hosts || !type || !key) return;
      entries.push({ matches: hostMatcher(hosts), keyType: type, key: Buffer.from(key, 'base64'), line: i + 1 });
    });
  return entries;
}

/** Plain comma lists (`a,b,[c]:2222`) and hashed names (`|1|salt|hmac`, HashKnownHosts yes). */
function hostMatcher(field: string): (id: string) => boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    return (id) => createHmac('sha1', Buffer.from(salt, 'base64')).update(id).digest('base64') === hash;
  }
  const names = field.split(',');
  return (id) => names.includes(id);
}

export interface VerifyOptions {
  /** The user's known_hosts: keys must be there already (strict, like StrictHostKeyChecking yes). */
  knownHosts?: string;
  /** The cluster's own file for trust on first use. */
  pinnedHosts: string;
  /** Told about every key pinned on first use, so nothing is accepted silently. */
  onPinned: (check: HostKeyCheck, hostName: string) => void;
}

/**
 * Decides whether the key a host presented is the one we expect. Throws HostKeyError, naming the
 * host and both fingerprints, when a known key changed; a possible man in the middle stops the run.
 */
export function verifyHostKey(hostName: string, id: string, keyBlob: Buffer, options: VerifyOptions): HostKeyCheck {
  const check: HostKeyCheck = { hostId: id, fingerprint: fingerprint(keyBlob), keyType: keyType(keyBlob) };
  const file = options.knownHosts ?? options.pinnedHosts;
  const known = parseKnownHosts(file).filter((e) => e.matches(id));
  if (known.some((e) => e.key.equals(keyBlob))) return check;
  if (known.length > 0) {
    const expected = known.map((e) => `${e.keyType} ${fingerprint(e.key)} (${file}:${e.line})`).join(', ');
    throw new HostKeyError(
      [
        `WARNING: the host key of ${hostName} (${id}) has CHANGED. Someone could be intercepting the connection, or the machine was reinstalled.`,
        `  expected: ${expected}`,
        `  presented: ${check.keyType} ${check.fingerprint}`,
        options.knownHosts
          ? `If the machine was rebuilt on purpose, remove line ${known.map((e) => e.line).join(', ')} from ${file} (ssh-keygen -R) and run again.`
          : `If the machine was rebuilt or re-flashed on purpose, run the bootstrap again with --forget-host ${hostName}.`,
      ].join('\n'),
    );
  }
  if (options.knownHosts) {
    throw new HostKeyError(
      `the host key of ${hostName} (${id}, ${check.keyType} ${check.fingerprint}) is not in ${options.knownHosts}; ` +
        `verify it out of band and add it (ssh-keyscan -p PORT ADDRESS >> ${options.knownHosts}), or drop knownHosts from the inventory to pin keys on first use`,
    );
  }
  appendFileSync(options.pinnedHosts, `${id} ${check.keyType} ${keyBlob.toString('base64')}\n`, { mode: 0o600 });
  options.onPinned(check, hostName);
  return check;
}

/**
 * Removes the pinned keys filed under `id` (a re-flashed or rebuilt machine presents a new key),
 * so the next connection pins the new one, with the usual notice. Returns how many lines went.
 */
export function forgetHostKey(pinnedHosts: string, id: string): number {
  if (!existsSync(pinnedHosts)) return 0;
  const lines = readFileSync(pinnedHosts, 'utf8').split('\n');
  const keep = lines.filter((raw) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return true;
    return !hostMatcher(line.split(/\s+/)[0])(id);
  });
  const removed = lines.length - keep.length;
  if (removed > 0) writeFileSync(pinnedHosts, keep.join('\n'), { mode: 0o600 });
  return removed;
}
