import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from './process-supervisor';

export interface HeldLock {
  release(): void;
}

/**
 * An exclusive lock file holding the owner's pid, so two `lotse up` (or an `up` and a `down`)
 * never start or stop the same cluster at once. A lock whose owner died is taken over.
 */
export function acquireLock(lockFile: string, purpose: string): HeldLock {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // link() of a complete temp file is atomic: nobody ever sees a lock without its pid.
      const tmp = `${lockFile}.${process.pid}`;
      fs.writeFileSync(tmp, `${process.pid} ${purpose}\n`);
      try {
        fs.linkSync(tmp, lockFile);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
      return { release: () => releaseIfOurs(lockFile) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create lock ${lockFile}: ${(err as Error).message}`);
      const [pidText, holder] = readLock(lockFile);
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid, 'lotse')) {
        throw new Error(`another "lotse ${holder || 'up'}" (pid ${pid}) is already starting or stopping this cluster: wait for it to finish, then run lotse status`);
      }
      fs.rmSync(lockFile, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`cannot take the lock ${lockFile}: another lotse process keeps re-creating it; try again`);
}

function readLock(lockFile: string): [string, string] {
  try {
    const [pid, holder] = fs.readFileSync(lockFile, 'utf8').trim().split(/\s+/);
    return [pid ?? '', holder ?? ''];
  } catch {
    return ['', ''];
  }
}

function releaseIfOurs(lockFile: string): void {
  if (readLock(lockFile)[0] === String(process.pid)) fs.rmSync(lockFile, { force: true });
}
