import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import type { BlockSink } from './block-filler';
import { fail, messageOf, refuse } from './errors';
import { type ByteStream, type FillingSource, xzDecompress, xzDecompressInto, xzUncompressedSize } from './xz-stream';

/** Chunk size for reading images and reading the target back; the writer writes smaller pieces (WRITE_BLOCK). */
export const BLOCK = 4 * 1024 * 1024;

export interface ImageSource {
  path: string;
  compressed: boolean;
  /** Size of the disk image once decompressed: what lands on the device. */
  size: number;
}

export async function describeImage(path: string): Promise<ImageSource> {
  const st = await stat(path).catch((e: Error) => {
    throw refuse(`cannot read the image ${path}: ${e.message}`);
  });
  if (!st.isFile()) throw refuse(`the image ${path} is not a regular file`);
  const other = /\.(gz|zst|bz2|zip|lz4)$/.exec(path);
  if (other) throw refuse(`the image ${path} is compressed with ${other[1]}, which lotse flash does not stream; decompress it first or use the .raw.xz image`);
  const compressed = path.endsWith('.xz');
  const size = compressed ? await xzUncompressedSize(path).catch(damagedXz(path)) : st.size;
  return { path, compressed, size };
}

function damagedXz(path: string): (e: unknown) => never {
  return (e) => {
    throw refuse(`cannot read the index of ${path}; the download is truncated or damaged, or it is not an xz file (${messageOf(e)})`);
  };
}

export function openImage(image: ImageSource): ByteStream {
  if (image.compressed) return xzDecompress(image.path);
  const stream = createReadStream(image.path, { highWaterMark: BLOCK });
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('close', resolve);
    stream.on('error', (e) => reject(fail(`reading ${image.path} failed: ${e.message}`)));
  });
  finished.catch(() => undefined);
  return { stream, finished, stop: () => stream.destroy() };
}

/** The disk image, decompressed, put straight into `sink`'s blocks: what the writer copies to the target. */
export async function openImageInto(image: ImageSource, sink: BlockSink): Promise<FillingSource> {
  if (image.compressed) return xzDecompressInto(image.path, sink);
  const handle = await open(image.path, 'r').catch((e: Error) => {
    throw fail(`reading ${image.path} failed: ${e.message}`);
  });
  let stopped = false;
  const done = readInto(handle, sink, () => stopped)
    .catch((e: Error) => {
      throw fail(`reading ${image.path} failed: ${e.message}`);
    })
    .finally(() => handle.close());
  done.catch(() => undefined);
  return { done, finished: done, stop: () => (stopped = true) };
}

/** Reads a raw image into the sink's blocks, waiting for room whenever the writes fall behind. */
async function readInto(handle: FileHandle, sink: BlockSink, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    const space = sink.space();
    const { bytesRead } = await handle.read(space, 0, space.length, null);
    if (bytesRead === 0) return;
    if (!sink.landed(bytesRead)) await sink.room();
  }
}

/** The first `bytes` of the disk image (decompressed), enough to parse its partition table. */
export async function readImageHead(image: ImageSource, bytes: number): Promise<Buffer> {
  const source = openImage(image);
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const chunk of source.stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    have += chunk.length;
    if (have >= bytes) break;
  }
  source.stop();
  if (have < bytes) await source.finished;
  return Buffer.concat(chunks).subarray(0, bytes);
}
