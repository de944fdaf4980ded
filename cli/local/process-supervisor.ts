import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** A detached process of the local cluster, known by its pid file. */
export interface Supervised {
  component: string;
  pid: number;
}

/**
 * Starts `command args` in its own session (it outlives `lotse up`), stdout and stderr appended
 * to logFile, and records its pid in pidFile.
 */
export function startDetached(command: string, args: string[], pidFile: string, logFile: string, component: string): Supervised {
  fs.mkdirSync(path.dirname(pidFile), { recursive: true });
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'a');
  try {
    fs.writeSync(log, `--- ${new Date().toISOString()} starting ${component}: ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new Error(`could not start ${component} (${command}): see ${logFile}`);
    child.unref();
    fs.writeFileSync(pidFile, `${child.pid}\n`);
    return { component, pid: child.pid };
  } finally {
    fs.closeSync(log);
  }
}

/**
 * The pid in pidFile when that process still runs and its command line contains `marker`
 * (a recycled pid belonging to something else does not count).
 */
export function runningPid(pidFile: string, marker: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  return isAlive(pid, marker) ? pid : undefined;
}

export function isAlive(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    // A zombie has an empty command line: it has exited, its parent just has not reaped it.
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

/** SIGTERM to the process group, SIGKILL after graceMs; resolves once it is gone. Removes pidFile. */
export async function stopProcess(pid: number, marker: string, pidFile: string, graceMs = 10_000): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid, marker) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid, marker)) {
    signalGroup(pid, 'SIGKILL');
    const hard = Date.now() + 5000;
    while (isAlive(pid, marker) && Date.now() < hard) await sleep(50);
  }
  fs.rmSync(pidFile, { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Detached children lead their own process group: the group takes helpers they started too.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last lines of a log, to quote when a component fails to start. */
export function tailLog(logFile: string, lines = 5): string {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
