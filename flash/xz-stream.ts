import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fail } from './errors';
import { runTool, toolSpawnError } from './tools';

export interface ByteStream {
  stream: Readable;
  /** Settles once the producer has exited; rejects when it failed (a corrupt or truncated file). */
  finished: Promise<void>;
  /** Stops the producer early, e.g. after reading only the head of the image. */
  stop(): void;
}

/**
 * Decompresses through the xz tool: it is multi-threaded-capable, checks the stream's integrity
 * itself, and keeps decompression off Node's event loop.
 */
export function xzDecompress(path: string): ByteStream {
  const child = spawn('xz', ['--decompress', '--stdout', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    stream: child.stdout,
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
