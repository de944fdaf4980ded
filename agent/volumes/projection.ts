import fs from 'node:fs';
import path from 'node:path';
import type { KeyToPath } from 'kubernetes-types/core/v1';
import { VolumeError } from './volume-error';

/**
 * Writes a ConfigMap, Secret, downward API or projected volume's files into dir, replacing what
 * was there, honouring items (key → path) and modes. Every pod sync (30 s) projects every such
 * volume again, so a file already as wanted is left alone: not rewritten and not chmod-ed, since
 * a chmod changes the inode (its ctime) even to the same mode, and on a Raspberry Pi's SD card
 * that was a metadata write per file every resync. A file changed on disk is put back.
 */
export function project(dir: string, data: Record<string, string | Buffer>, items: KeyToPath[] | undefined, defaultMode: number | undefined, what: string): string {
  const files = wantedFiles(data, items, defaultMode, what);
  fs.mkdirSync(dir, { recursive: true });
  const tops = new Set([...files.keys()].map((f) => f.split('/')[0]));
  for (const entry of fs.readdirSync(dir)) if (!tops.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  for (const [rel, { content, mode }] of files) writeIfChanged(path.join(dir, rel), rel.includes('/'), content, mode);
  return dir;
}

function wantedFiles(data: Record<string, string | Buffer>, items: KeyToPath[] | undefined, defaultMode: number | undefined, what: string): Map<string, { content: Buffer; mode: number }> {
  const files = new Map<string, { content: Buffer; mode: number }>();
  const bytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);
  if (items?.length) {
    for (const item of items) {
      if (!(item.key in data)) throw new VolumeError(`${what} has no key "${item.key}"`);
      files.set(safeRelative(item.path), { content: bytes(data[item.key]), mode: item.mode ?? defaultMode ?? 0o644 });
    }
  } else {
    for (const [k, v] of Object.entries(data)) files.set(safeRelative(k), { content: bytes(v), mode: defaultMode ?? 0o644 });
  }
  return files;
}

function writeIfChanged(target: string, nested: boolean, content: Buffer, mode: number): void {
  if (nested) fs.mkdirSync(path.dirname(target), { recursive: true });
  const current = fs.statSync(target, { throwIfNoEntry: false });
  const same = current?.isFile() === true && current.size === content.length && fs.readFileSync(target).equals(content);
  if (!same) {
    // Written aside and renamed, so a reader never sees half a file.
    fs.writeFileSync(`${target}.lotse-tmp`, content, { mode });
    fs.renameSync(`${target}.lotse-tmp`, target);
  }
  // writeFileSync's mode passes through the umask, so a new file is chmod-ed too.
  if (!same || (current.mode & 0o7777) !== mode) fs.chmodSync(target, mode);
}

/** A path inside a volume (an item's path, a subPath), normalised; refused if it would leave the volume. */
export function safeRelative(p: string): string {
  const normal = path.posix.normalize(p);
  if (normal.startsWith('..') || path.posix.isAbsolute(normal)) throw new VolumeError(`path "${p}" must be relative and stay inside the volume`);
  return normal;
}
