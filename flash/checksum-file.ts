import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { refuse } from './errors';

export type ChecksumResult = { verified: true; checksumFile: string; sha256: string } | { verified: false };

/**
 * Where publishers put checksums: `IMAGE.sha256` / `IMAGE.sha256sum` beside the image, or a list for the
 * whole folder (`SHA256SUMS`, `sha256sum.txt`, Fedora's `CHECKSUM`). A list that does not name the image is skipped.
 */
export function checksumCandidates(image: string): string[] {
  const dir = dirname(image);
  return [`${image}.sha256`, `${image}.sha256sum`, ...['SHA256SUMS', 'sha256sum.txt', 'CHECKSUM'].map((f) => join(dir, f))];
}

/**
 * The expected sha256 of `name` from a checksum file's text. Understands a bare hash, GNU lines
 * (`HASH  name`, `HASH *name`) and BSD lines (`SHA256 (name) = HASH`).
 */
export function expectedSha256(text: string, name: string, fileIsOnlyForThisImage: boolean): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  for (const line of lines) {
    const gnu = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line);
    if (gnu && basename(gnu[2]) === name) return gnu[1].toLowerCase();
    const bsd = /^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$/.exec(line);
    if (bsd && basename(bsd[1]) === name) return bsd[2].toLowerCase();
  }
  const bare = lines.filter((l) => l !== '');
  if (fileIsOnlyForThisImage && bare.length === 1 && /^[0-9a-fA-F]{64}$/.test(bare[0])) return bare[0].toLowerCase();
  return undefined;
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Verifies the image against the first checksum file that names it; refuses on a mismatch. */
export async function verifyChecksumFile(image: string): Promise<ChecksumResult> {
  const name = basename(image);
  for (const candidate of checksumCandidates(image)) {
    const text = await readFile(candidate, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const want = expectedSha256(text, name, candidate.startsWith(image));
    if (!want) continue;
    const got = await sha256OfFile(image);
    if (got !== want) {
      throw refuse(
        `the image ${image} does not match its checksum file ${candidate}: sha256 is ${got}, expected ${want}. ` +
          'The download is damaged or the checksum belongs to another image; download it again.',
      );
    }
    return { verified: true, checksumFile: candidate, sha256: got };
  }
  return { verified: false };
}
