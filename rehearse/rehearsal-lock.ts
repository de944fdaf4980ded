import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackDir } from './rehearse-home';

/**
 * One `lotse rehearse` per stack at a time: two runs would boot hosts with the same names and
 * addresses, and the first to finish would remove the other's. The lock holds the runner's PID; a
 * lock whose process is gone is taken over. Returns the release function.
 */
export function lockRehearsal(stack: string): () => void {
  const file = join(stackDir(stack), 'run.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot lock the ${stack} rehearsal (${file}): ${(err as Error).message}`);
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (isRehearsing(holder)) {
        throw new Error(`a ${stack} rehearsal is already running here (process ${holder}); wait for it, or stop it (Ctrl-C, or lotse rehearse --down --stack ${stack}), or rehearse another stack`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock the ${stack} rehearsal (${file}): another run keeps taking it`);
}

/** The PID still runs a rehearsal (a reused PID belongs to something else). */
function isRehearsing(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('rehearse');
  } catch {
    return false;
  }
}
