import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { BlockSink } from './block-filler';
import { fail } from './errors';
import { landingSocket } from './landing-socket';
import { runTool, toolSpawnError } from './tools';

export interface ByteStream {
  stream: Readable;
  /** Settles once the producer has exited; rejects when it failed (a corrupt or truncated file). */
  finished: Promise<void>;
  /** Stops the producer early, e.g. after reading only the head of the image. */
  stop(): void;
}

/** A source that puts the decompressed image straight into a BlockSink's buffers. */
export interface FillingSource {
  /** Settles once every byte has been handed to the sink (end of stream) or the source was stopped. */
  done: Promise<void>;
  /** Settles once the producer has exited; rejects when it failed (a corrupt or truncated file). */
  finished: Promise<void>;
  stop(): void;
}

/**
 * xz decodes the blocks of a multi-block image (what multi-threaded compressors write) on every core and
 * then writes its output in large pieces, which also halves the reads on our side. xz before 5.4 decodes
 * with one thread and ignores this option when decompressing.
 */
const XZ_THREADS = '--threads=0';

/**
 * Decompresses through the xz tool: it is multi-threaded-capable, checks the stream's integrity
 * itself, and keeps decompression off Node's event loop.
 */
export function xzDecompress(path: string): ByteStream {
  const child = spawn('xz', ['--decompress', '--stdout', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = xzExit(child, path);
  return { stream: child.stdout, finished: exit.finished, stop: exit.stop };
}

/**
 * Decompresses through the xz tool into `sink`: xz writes to a socket whose reads land directly in the
 * sink's blocks, so the image crosses into this process with one copy (the kernel's) and no per-read garbage.
 */
export async function xzDecompressInto(path: string, sink: BlockSink): Promise<FillingSource> {
  const { reader, writer } = await landingSocket({
    buffer: () => sink.space(),
    callback: (n: number) => {
      if (sink.landed(n)) return true;
      void sink.room().then(() => reader.resume());
      return false;
    },
  });
  const child = spawn('xz', ['--decompress', '--stdout', XZ_THREADS, '--', path], { stdio: ['ignore', writer, 'pipe'] });
  // The child has its own copy now; ours would keep the reader from ever seeing the end of the stream.
  writer.destroy();
  const exit = xzExit(child, path);
  const done = new Promise<void>((resolve, reject) => {
    reader.on('error', (e) => reject(fail(`reading the output of xz failed: ${e.message}`)));
    reader.on('close', () => resolve());
  });
  done.catch(() => undefined);
  return {
    done,
    finished: exit.finished,
    stop: () => {
      exit.stop();
      reader.destroy();
    },
  };
}

/** How an xz child ends: its exit status as a promise that names the damage, and a way to stop it early. */
function xzExit(child: ChildProcessByStdio<null, Readable | null, Readable>, path: string): Pick<ByteStream, 'finished' | 'stop'> {
  let stderr = '';
  let stopped = false;
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => reject(toolSpawnError('xz', e)));
    child.on('close', (code, signal) => {
      if (code === 0 || stopped) resolve();
      else reject(fail(`decompressing ${path} failed (xz exited with ${code ?? signal}): ${stderr.trim() || 'no message'}`));
    });
  });
  // The caller awaits `finished` at its own pace; keep an early rejection from counting as unhandled.
  finished.catch(() => undefined);
  return {
    finished,
    stop: () => {
      stopped = true;
      child.kill('SIGTERM');
    },
  };
}

/** The uncompressed size, read from the xz index without decompressing (`xz --robot --list`). */
export async function xzUncompressedSize(path: string): Promise<number> {
  const { stdout } = await runTool('xz', ['--robot', '--list', '--', path]);
  const fileLine = stdout
    .toString('utf8')
    .split('\n')
    .find((line) => line.startsWith('file\t'));
  const size = fileLine ? Number(fileLine.split('\t')[4]) : NaN;
  if (!Number.isSafeInteger(size)) throw fail(`could not read the uncompressed size of ${path} from "xz --robot --list"`);
  return size;
}
