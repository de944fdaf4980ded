import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { Store } from './store';

/**
 * A store snapshot: every key and value of a lotse store (the API objects under /registry and
 * lotse's own records: node credentials, pod-CIDR claims), as gzip'd JSON lines. The first line
 * says what it is, the last line counts the entries and carries the SHA-256 of the lines before
 * it, so a truncated or altered file is refused before anything is written. The same file restores
 * into either store, so it also moves a cluster from SQLite to etcd.
 */
export const SNAPSHOT_FORMAT = 'lotse-store-snapshot/v1';

export interface SnapshotHeader {
  format: typeof SNAPSHOT_FORMAT;
  /** The kind of store it was taken from. */
  store: 'sqlite' | 'etcd';
  /** The store's revision the keys were read at. */
  revision: number;
  createdAt: string;
}

export interface SnapshotSummary {
  keys: number;
  /** The revision of the store the snapshot was taken from. */
  revision: number;
}

interface Trailer {
  end: true;
  keys: number;
  sha256: string;
}

/**
 * Streams every key of the store to `out` as a snapshot (gzip'd). The keys come from one scan at
 * one revision (Store.scan), so the snapshot is consistent while the masters keep writing, and a
 * page at a time, so a master serving a snapshot of 100,000s of objects never holds them all.
 */
export async function writeSnapshot(store: Store, out: NodeJS.WritableStream, progress: (keys: number) => void = () => undefined): Promise<SnapshotSummary> {
  const scan = await store.scan('/');
  const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, store: store.kind, revision: scan.revision, createdAt: new Date().toISOString() };
  const hash = createHash('sha256');
  let keys = 0;
  async function* lines(): AsyncGenerator<string> {
    const first = `${JSON.stringify(header)}\n`;
    hash.update(first);
    yield first;
    for (let page = await scan.next(); page; page = await scan.next()) {
      let text = '';
      for (const item of page) {
        text += `${JSON.stringify({ key: item.key, value: item.value })}\n`;
        if (++keys % 1000 === 0) progress(keys);
      }
      hash.update(text);
      yield text;
    }
    const trailer: Trailer = { end: true, keys, sha256: hash.digest('hex') };
    yield `${JSON.stringify(trailer)}\n`;
  }
  await pipeline(Readable.from(lines()), createGzip(), out);
  return { keys, revision: scan.revision };
}

/**
 * Writes a snapshot file through FILE.partial, renamed once whole and checked, so a failed save
 * never leaves a file that looks good. `source` writes the bytes: from the store itself, or a
 * download from a running master.
 */
export async function saveSnapshotFile(file: string, source: (out: NodeJS.WritableStream) => Promise<unknown>): Promise<SnapshotSummary> {
  const partial = `${file}.partial`;
  try {
    await source(createWriteStream(partial, { mode: 0o600 }));
    const { header, entries } = await readSnapshot(partial);
    renameSync(partial, file);
    return { keys: entries.length, revision: header.revision };
  } catch (err) {
    rmSync(partial, { force: true });
    throw new Error(`writing the snapshot ${file} failed: ${(err as Error).message}`);
  }
}

/** Reads and checks a snapshot without writing anything: its header, entries and checksum. */
export async function readSnapshot(file: string): Promise<{ header: SnapshotHeader; entries: { key: string; value: Record<string, unknown> }[] }> {
  const hash = createHash('sha256');
  const entries: { key: string; value: Record<string, unknown> }[] = [];
  let header: SnapshotHeader | undefined;
  let trailer: Trailer | undefined;
  const input = createReadStream(file).on('error', () => undefined);
  const lines = createInterface({ input: input.pipe(createGunzip()), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (trailer) throw new Error('data after the end marker');
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (!header) {
        if (parsed.format !== SNAPSHOT_FORMAT) throw new Error(`it is not a lotse store snapshot (expected format ${SNAPSHOT_FORMAT}, found ${JSON.stringify(parsed.format)})`);
        header = parsed as unknown as SnapshotHeader;
      } else if (parsed.end === true) {
        trailer = parsed as unknown as Trailer;
        continue;
      } else {
        if (typeof parsed.key !== 'string' || typeof parsed.value !== 'object' || parsed.value === null) throw new Error(`entry ${entries.length + 1} has no key and object value`);
        entries.push({ key: parsed.key, value: parsed.value as Record<string, unknown> });
      }
      hash.update(`${line}\n`);
    }
  } catch (err) {
    throw new Error(`the snapshot ${file} is unreadable: ${(err as Error).message}`);
  }
  if (!header) throw new Error(`the snapshot ${file} is empty`);
  if (!trailer) throw new Error(`the snapshot ${file} is truncated (no end marker after ${entries.length} entries): take it again`);
  if (trailer.keys !== entries.length || trailer.sha256 !== hash.digest('hex')) throw new Error(`the snapshot ${file} is damaged: its checksum or entry count does not match its content`);
  return { header, entries };
}

/**
 * Writes a snapshot into an empty store (a new etcd data dir, a new SQLite file), refusing one that
 * holds anything: restoring is for a cluster that lost its store, not a merge. The masters must be
 * stopped meanwhile; they start on the restored store as on their own.
 */
export async function restoreSnapshot(store: Store, file: string, progress: (done: number, total: number) => void = () => undefined): Promise<SnapshotSummary> {
  const { header, entries } = await readSnapshot(file);
  const present = await store.list('/', { limit: 1 });
  if (present.items.length > 0) {
    throw new Error(`the target store is not empty (it holds ${present.items[0].key} and maybe more): restore into a new etcd data dir or a new SQLite file, with the masters stopped`);
  }
  for (let i = 0; i < entries.length; i++) {
    await store.create(entries[i].key, entries[i].value);
    if ((i + 1) % 500 === 0) progress(i + 1, entries.length);
  }
  progress(entries.length, entries.length);
  return { keys: entries.length, revision: header.revision };
}
