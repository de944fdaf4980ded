import fs from 'node:fs';
import path from 'node:path';
import type { KeyToPath } from 'kubernetes-types/core/v1';
import { stampOf, unchangedSince, type FileStamp } from '../file-stamp';
import { VolumeError } from './volume-error';

/**
 * What projections of one pod found on disk, by path: the stat of each file and directory as a
 * projection left it, and what was wanted in the file (the ConfigMap's or token's own string,
 * shared with the cache it came from, so holding it costs nothing). A later projection that
 * finds the same stat trusts it and reads nothing: with 30 pods a node and a sync per pod a
 * minute, reading back every file and listing every volume was a fifth of a hollow node's own
 * time (bench/density.ts).
 */
export type ProjectionRecords = Map<string, Seen>;

type Content = string | Buffer;

/** A file's stamp with the content wanted in it, or a directory's with its wanted top-level entries. */
interface Seen {
  stamp: FileStamp;
  content: Content;
}

/**
 * Writes a ConfigMap, Secret, downward API or projected volume's files into dir, replacing what
 * was there, honouring items (key → path) and modes. Every pod sync (1 min) projects every such
 * volume again, so a file already as wanted is left alone: not rewritten and not chmod-ed, since
 * a chmod changes the inode (its ctime) even to the same mode, and on a Raspberry Pi's SD card
 * that was a metadata write per file every resync. A file changed on disk is put back. With
 * `records` (the pod's), a file or directory whose stat is as the last projection left it is
 * not read again.
 */
export function project(dir: string, data: Record<string, Content>, items: KeyToPath[] | undefined, defaultMode: number | undefined, what: string, records?: ProjectionRecords): string {
  const files = wantedFiles(data, items, defaultMode, what);
  const tops = new Set([...files.keys()].map((f) => f.split('/')[0]));
  const entries = [...tops].sort().join('/');
  const listed = !unchanged(dir, entries, records);
  if (listed) {
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of fs.readdirSync(dir)) if (!tops.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
  let wrote = false;
  for (const [rel, { value: content, mode }] of files) wrote = writeIfChanged(path.join(dir, rel), rel.includes('/'), content, mode, records) || wrote;
  // After the files: writing one changes the directory's own times.
  if (listed || wrote) remember(dir, entries, records);
  return dir;
}

function wantedFiles(data: Record<string, Content>, items: KeyToPath[] | undefined, defaultMode: number | undefined, what: string): Map<string, { value: Content; mode: number }> {
  const files = new Map<string, { value: Content; mode: number }>();
  if (items?.length) {
    for (const item of items) {
      if (!(item.key in data)) throw new VolumeError(`${what} has no key "${item.key}"`);
      files.set(safeRelative(item.path), { value: data[item.key], mode: item.mode ?? defaultMode ?? 0o644 });
    }
  } else {
    for (const [k, v] of Object.entries(data)) files.set(safeRelative(k), { value: v, mode: defaultMode ?? 0o644 });
  }
  return files;
}

/** Returns whether the file was written or chmod-ed. */
function writeIfChanged(target: string, nested: boolean, wanted: Content, mode: number, records: ProjectionRecords | undefined): boolean {
  if (unchanged(target, wanted, records, mode)) return false;
  const content = typeof wanted === 'string' ? Buffer.from(wanted) : wanted;
  if (nested) fs.mkdirSync(path.dirname(target), { recursive: true });
  const current = fs.statSync(target, { throwIfNoEntry: false });
  const same = current?.isFile() === true && current.size === content.length && fs.readFileSync(target).equals(content);
  if (!same) {
    // Written aside and renamed, so a reader never sees half a file.
    fs.writeFileSync(`${target}.lotse-tmp`, content, { mode });
    fs.renameSync(`${target}.lotse-tmp`, target);
  }
  // writeFileSync's mode passes through the umask, so a new file is chmod-ed too.
  const chmod = !same || (current.mode & 0o7777) !== mode;
  if (chmod) fs.chmodSync(target, mode);
  remember(target, wanted, records);
  return chmod;
}

/** Whether `p` is as a trusted record says (and, for a file, holds `content` with `mode`). */
function unchanged(p: string, content: Content, records: ProjectionRecords | undefined, mode?: number): boolean {
  const seen = records?.get(p);
  if (!seen || !sameContent(seen.content, content) || (mode !== undefined && seen.stamp.mode !== mode)) return false;
  return unchangedSince(p, seen.stamp);
}

function sameContent(a: Content, b: Content): boolean {
  return typeof a === 'string' || typeof b === 'string' ? a === b : a.equals(b);
}

function remember(p: string, content: Content, records: ProjectionRecords | undefined): void {
  if (!records) return;
  const stamp = stampOf(p);
  if (stamp) records.set(p, { stamp, content });
  else records.delete(p);
}

/** A path inside a volume (an item's path, a subPath), normalised; refused if it would leave the volume. */
export function safeRelative(p: string): string {
  const normal = path.posix.normalize(p);
  if (normal.startsWith('..') || path.posix.isAbsolute(normal)) throw new VolumeError(`path "${p}" must be relative and stay inside the volume`);
  return normal;
}
