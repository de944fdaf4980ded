import fs from 'node:fs';

/**
 * A file's (or directory's) stat as the agent last read or wrote it, to tell cheaply whether it
 * changed since: a stat instead of reading it back. Used for files the agent re-reads on a
 * period (projected volumes every pod sync, flannel's subnet.env every second).
 */
export interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  mode: number;
  /** When the stat was taken. */
  at: number;
}

/**
 * A stamp taken within this long of the file's last change is not trusted (git's "racily clean"
 * entries): before Linux 6.13's multigrain timestamps, file times come from the kernel's coarse
 * clock, so a change in the same tick as the stat could leave every field as stamped.
 */
const RACY_MS = 100;

/** The stamp of `path` now; undefined when it does not exist. */
export function stampOf(path: string): FileStamp | undefined {
  const at = Date.now();
  const s = fs.statSync(path, { throwIfNoEntry: false });
  return s && { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, mode: s.mode & 0o7777, at };
}

/** Whether `path` is still as `stamp` found it, and the stamp can be trusted to show a change. */
export function unchangedSince(path: string, stamp: FileStamp | undefined): boolean {
  if (!stamp || stamp.at - Math.max(stamp.mtimeMs, stamp.ctimeMs) < RACY_MS) return false;
  const now = fs.statSync(path, { throwIfNoEntry: false });
  return now !== undefined && now.ino === stamp.ino && now.size === stamp.size && now.mtimeMs === stamp.mtimeMs && now.ctimeMs === stamp.ctimeMs && (now.mode & 0o7777) === stamp.mode;
}
