import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { fail } from './errors';
import { BLOCK } from './image-source';
import type { ByteProgress } from './byte-progress';
import type { Target } from './target';
import { runTool } from './tools';

/**
 * Reads the written range back and compares its sha256 with the hash of what was sent. For a block device
 * the kernel's cached copy is dropped first (BLKFLSBUF via `blockdev --flushbufs`), so the bytes come from
 * the card itself rather than from memory; a card that silently loses writes shows up here.
 */
export async function verifyWritten(target: Target, bytes: number, expectedSha256: string, progress: ByteProgress): Promise<void> {
  if (target.kind === 'block') await runTool('blockdev', ['--flushbufs', target.path]);
  const got = await sha256OfRange(target.path, bytes, progress);
  if (got !== expectedSha256) {
    throw fail(
      `verification failed: the first ${bytes} bytes read back from ${target.path} hash to ${got}, but ${expectedSha256} was written. ` +
        'The card may be failing or fake (reporting more space than it has); try another card.',
    );
  }
}

export async function sha256OfRange(path: string, bytes: number, progress: ByteProgress): Promise<string> {
  const handle = await open(path, 'r');
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(BLOCK);
  progress.start('verifying', bytes);
  try {
    let at = 0;
    while (at < bytes) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(BLOCK, bytes - at), at);
      if (bytesRead === 0) throw fail(`${path} ended after ${at} bytes while reading back ${bytes}`);
      hash.update(buffer.subarray(0, bytesRead));
      at += bytesRead;
      progress.update(at);
    }
  } finally {
    progress.stop();
    await handle.close();
  }
  return hash.digest('hex');
}
