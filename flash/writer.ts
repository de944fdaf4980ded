import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { fail, FlashError, messageOf } from './errors';
import { GPT_HEAD_BYTES } from './gpt';
import { BLOCK, type ImageSource, openImage } from './image-source';
import type { ByteProgress } from './byte-progress';
import type { Target } from './target';
import { formatBytes } from './units';

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

/** Streams the decompressed image onto the target in BLOCK-sized writes, hashing as it goes, then fsyncs. */
export async function writeImage(image: ImageSource, target: Target, progress: ByteProgress): Promise<WriteResult> {
  const handle = await openTarget(target);
  const source = openImage(image);
  const hash = createHash('sha256');
  let written = 0;
  progress.start('writing', image.size);
  try {
    const syncEvery = target.kind === 'block' ? SYNC_EVERY : Infinity;
    written = await copy(source.stream as AsyncIterable<Buffer>, handle, hash, progress, syncEvery).catch((e: unknown) => {
      if (e instanceof WriteStopped) written = e.written;
      throw e instanceof WriteStopped ? e.reason : e;
    });
    await source.finished;
    if (written !== image.size) throw new Error(`the image ended after ${written} bytes, ${image.size} were expected`);
    await handle.sync();
  } catch (e) {
    source.stop();
    throw await interrupted(handle, target, written, image.size, e);
  } finally {
    progress.stop();
    await handle.close().catch(() => undefined);
  }
  return { bytes: written, sha256: hash.digest('hex') };
}

/**
 * Keeps one BLOCK write in flight while the next block is read and hashed, so hashing on this thread,
 * decompression in xz and the write in libuv's pool overlap instead of taking turns.
 */
async function copy(
  stream: AsyncIterable<Buffer>,
  handle: FileHandle,
  hash: ReturnType<typeof createHash>,
  progress: ByteProgress,
  syncEvery: number,
): Promise<number> {
  let queued = 0;
  let durable = 0;
  let synced = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const startWrite = async (): Promise<void> => {
    const buffers = pending;
    const at = queued;
    queued += pendingBytes;
    pending = [];
    pendingBytes = 0;
    await inFlight;
    inFlight = writeAll(handle, buffers, at).then(async () => {
      durable = at + buffers.reduce((n, b) => n + b.length, 0);
      if (durable - synced >= syncEvery) {
        await handle.datasync();
        synced = durable;
      }
      progress.update(durable);
    });
    // Awaited at the next block or at the end; this only keeps Node from calling it unhandled meanwhile.
    inFlight.catch(() => undefined);
  };
  try {
    for await (const chunk of stream) {
      hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= BLOCK) await startWrite();
    }
    if (pendingBytes > 0) await startWrite();
    await inFlight;
  } catch (e) {
    await inFlight.catch(() => undefined);
    throw new WriteStopped(durable, e);
  }
  return queued;
}

/** Carries how far the write got, for the message that tells the user what state the card is in. */
class WriteStopped extends Error {
  constructor(
    readonly written: number,
    readonly reason: unknown,
  ) {
    super(messageOf(reason));
  }
}

/**
 * One writev for the whole block: the kernel gathers the stream's chunks itself, saving a 4 MiB copy per
 * block. A write may take less than asked (signals, device limits); the rest then goes in plain writes.
 */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten === total) return;
  let rest = Buffer.concat(buffers).subarray(bytesWritten);
  let at = position + bytesWritten;
  while (rest.length > 0) {
    const { bytesWritten: n } = await handle.write(rest, 0, rest.length, at);
    if (n === 0) throw new Error(`the target accepted no more bytes at offset ${at}`);
    rest = rest.subarray(n);
    at += n;
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
