import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { BlockFiller, type BlockWrite } from './block-filler';
import { fail, FlashError, messageOf } from './errors';
import { GPT_HEAD_BYTES } from './gpt';
import { type ImageSource, openImageInto } from './image-source';
import type { ByteProgress } from './byte-progress';
import type { Target } from './target';
import { formatBytes } from './units';
import type { FillingSource } from './xz-stream';

export interface WriteResult {
  bytes: number;
  /** sha256 of the decompressed stream, as it went to the device. */
  sha256: string;
}

/**
 * Opens the target for writing. A block device is opened O_EXCL, which the kernel refuses (EBUSY) while
 * anything has it mounted or claimed: a last guard against a race with an automounter.
 */
export async function openTarget(target: Target): Promise<FileHandle> {
  const flags = target.kind === 'block' ? constants.O_WRONLY | constants.O_EXCL : 'w';
  return open(target.path, flags).catch((e: NodeJS.ErrnoException) => {
    const why = e.code === 'EBUSY' ? 'it is in use (mounted or claimed by another program)' : e.message;
    throw fail(`cannot open ${target.path} for writing: ${why}`);
  });
}

/**
 * On a card, data is pushed out every SYNC_EVERY bytes: otherwise gigabytes sit in the page cache, the bar
 * races to 100 % and the final fsync then blocks for minutes with nothing to show. Files skip it.
 */
const SYNC_EVERY = 64 * 1024 * 1024;

/**
 * Puts the decompressed image onto the target in WRITE_BLOCK-sized writes, then fsyncs. The sha256 of the stream
 * is taken as each read lands (see BlockFiller), so hashing, decompression in xz and the writes in libuv's
 * pool all run at once instead of taking turns.
 */
export async function writeImage(image: ImageSource, target: Target, progress: ByteProgress): Promise<WriteResult> {
  const handle = await openTarget(target);
  const filler = new BlockFiller(blockWriter(handle, progress, target.kind === 'block' ? SYNC_EVERY : Infinity));
  progress.start('writing', image.size);
  let source: FillingSource | undefined;
  try {
    source = await openImageInto(image, filler);
    await Promise.race([source.done, filler.failed]);
    const written = await filler.finish();
    await source.finished;
    if (written !== image.size) throw new Error(`the image ended after ${written} bytes, ${image.size} were expected`);
    await handle.sync();
    return { bytes: written, sha256: filler.digest() };
  } catch (e) {
    source?.stop();
    // A write still under way could land after the partition table is cleared and bring it back.
    await filler.idle();
    throw await interrupted(handle, target, filler.durable, image.size, e);
  } finally {
    progress.stop();
    await handle.close().catch(() => undefined);
  }
}

/** Each block goes out whole; on a card every SYNC_EVERY bytes are pushed to it before progress moves on. */
function blockWriter(handle: FileHandle, progress: ByteProgress, syncEvery: number): BlockWrite {
  let synced = 0;
  return async (data, position) => {
    await writeAll(handle, data, position);
    const end = position + data.length;
    if (end - synced >= syncEvery) {
      await handle.datasync();
      synced = end;
    }
    progress.update(end);
  };
}

/** A write may take less than asked (signals, device limits); the rest then goes in further writes. */
async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let rest = data;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.write(rest, 0, rest.length, at);
    if (bytesWritten === 0) throw new Error(`the target accepted no more bytes at offset ${at}`);
    rest = rest.subarray(bytesWritten);
    at += bytesWritten;
  }
}

/**
 * After a failed write the card holds the start of a good image and garbage after it. Zeroing the
 * partition table (as coreos-installer does) keeps it from half-booting later and being mistaken for good.
 */
async function interrupted(handle: FileHandle, target: Target, written: number, total: number, cause: unknown): Promise<FlashError> {
  const cleared =
    written > 0 &&
    (await handle
      .write(Buffer.alloc(GPT_HEAD_BYTES), 0, GPT_HEAD_BYTES, 0)
      .then(() => handle.sync())
      .then(
        () => true,
        () => false,
      ));
  const reason = cause instanceof FlashError ? cause.message : messageOf(cause);
  return fail(
    `writing ${target.path} was interrupted after ${formatBytes(written)} of ${formatBytes(total)}: ${reason}. ` +
      `The target is incomplete and will not boot${cleared ? ' (its partition table was cleared so it is not mistaken for a good card)' : ''}. ` +
      'Fix the cause and run the same command again; it starts over from the beginning.',
  );
}
