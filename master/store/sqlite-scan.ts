import type { StoredValue, StoreScan } from './store';

/** A key as the scan's revision had it: what its value is looked up by, page by page. */
export interface ScanKey {
  key: string;
  create_revision: number;
  mod_revision: number;
}

/** A row of the kv table. */
export interface ScanRow extends ScanKey {
  value: string;
}

/** What a scan reads from the SQLite store between its pages. */
export interface ScanReader {
  /** The kv rows from `first` to `last`, both included, as they are now. */
  rowsBetween(first: string, last: string): ScanRow[];
  /** The value the write at `revision` gave `key`, from the store's history; undefined once compacted. */
  valueWrittenAt(key: string, revision: number): string | undefined;
  /** Throws when the store was closed. */
  assertOpen(verb: string): void;
}

/**
 * A scan of the SQLite store at one revision without holding its values: the keys (with their
 * revisions) are read at once, which is consistent because SQLite reads and writes in one
 * thread; each page then reads its values as they are now and takes a value changed or deleted
 * since the scan's revision from the history (the log row of the write that made the value the
 * scan saw), when the history still has it (valueOf). A list of 110,000 pods so holds ~17 MB of keys instead of every pod's JSON text
 * (~3 KB each) or, decoded, several times that.
 */
export class SqliteScan implements StoreScan {
  private next_ = 0;

  constructor(
    private readonly reader: ScanReader,
    private readonly prefix: string,
    readonly revision: number,
    private keys: ScanKey[],
    private readonly pageSize: number,
  ) {}

  async next(): Promise<StoredValue[] | undefined> {
    if (this.next_ >= this.keys.length) return undefined;
    this.reader.assertOpen(`read ${this.prefix} at revision ${this.revision}`);
    const page = this.keys.slice(this.next_, this.next_ + this.pageSize);
    this.next_ += page.length;
    if (this.next_ >= this.keys.length) this.keys = [];
    const now = new Map(this.reader.rowsBetween(page[0].key, page[page.length - 1].key).map((row) => [row.key, row]));
    return page.flatMap((k) => this.valueOf(k, now.get(k.key)));
  }

  /**
   * The value the scan's revision had. A key changed since whose earlier value is no longer in
   * the history (written before the last compaction, which keeps 5 minutes) is given as it is now,
   * or left out if it was deleted: its modRevision then says it is newer than the scan, and a
   * watch from the scan's revision brings that change again, so an informer built on the list
   * still ends up right. Failing the list instead would fail every large list on a busy cluster.
   */
  private valueOf(k: ScanKey, current: ScanRow | undefined): StoredValue[] {
    const text = current?.mod_revision === k.mod_revision ? current.value : this.reader.valueWrittenAt(k.key, k.mod_revision);
    if (text !== undefined) return [{ key: k.key, value: JSON.parse(text) as Record<string, unknown>, modRevision: k.mod_revision, createRevision: k.create_revision }];
    if (!current) return [];
    return [{ key: k.key, value: JSON.parse(current.value) as Record<string, unknown>, modRevision: current.mod_revision, createRevision: current.create_revision }];
  }
}
