import { spawn } from 'node:child_process';
import { fail } from './errors';
import { toolSpawnError } from './tools';

export type ReleaseLock = () => Promise<void>;

const LOCK_WAIT_SECONDS = 10;

/**
 * Takes a BSD lock (flock LOCK_EX) on the whole disk for the length of the flash. systemd-udevd leaves a
 * locked disk alone, so it neither re-reads the new partition table nor lets a desktop automount the fresh
 * `boot` partition while debugfs and mtools are still writing into it (the systemd "block device locking"
 * convention). Node has no flock(2), so util-linux's flock holds it in a child until released.
 */
export function lockDevice(device: string): Promise<ReleaseLock> {
  const child = spawn('flock', ['--exclusive', '--wait', String(LOCK_WAIT_SECONDS), device, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return new Promise<ReleaseLock>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => reject(toolSpawnError('flock', e)));
    child.on('close', (code) => reject(fail(`could not lock ${device} within ${LOCK_WAIT_SECONDS} s (flock exited with ${code}): ${stderr.trim() || 'another program holds it'}`)));
    child.stdout.once('data', () =>
      resolve(async () => {
        child.stdin.end();
        await exited;
      }),
    );
  });
}
