import { compareKeys } from './key-range';
import { decodeStoredText, type StoredText, type StoredValue, type StoreScan } from './store';

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
  /** Throws when the store was closed. */
  assertOpen(verb: string): void;
}

/**
 * A scan of the SQLite store at one revision without holding its values: the keys (with their
 * revisions) are read at once, which is consistent because SQLite reads and writes in one
 * thread; each page then reads its values as they are now. A value changed or deleted since the
 * scan's revision is the one the store handed over before the write that replaced it
 * (`preserve`): every write to an existing key does, so the scan never needs the history, which
 * keeps only 5 minutes. A list of 110,000 pods so holds ~17 MB of keys instead of every pod's JSON text (~3 KB each)
 * or, decoded, several times that, plus the earlier values of the keys written while it runs.
 */
export class SqliteScan implements StoreScan {
  private next_ = 0;
  /** Values the scan's revision had, of keys not yet read that were written since (preserve). */
  private readonly earlier = new Map<string, string>();

  constructor(
    private readonly reader: ScanReader,
    private readonly prefix: string,
    readonly revision: number,
    private keys: ScanKey[],
    private readonly pageSize: number,
  ) {}

  /** True once every page was read: the store stops handing this scan earlier values. */
  get finished(): boolean {
    return this.next_ >= this.keys.length;
  }

  async next(): Promise<StoredValue[] | undefined> {
    return (await this.nextText())?.map(decodeStoredText);
  }

  async nextText(): Promise<StoredText[] | undefined> {
    if (this.finished) return undefined;
    this.reader.assertOpen(`read ${this.prefix} at revision ${this.revision}`);
    const page = this.keys.slice(this.next_, this.next_ + this.pageSize);
    this.next_ += page.length;
    if (this.finished) this.keys = [];
    const now = new Map(this.reader.rowsBetween(page[0].key, page[page.length - 1].key).map((row) => [row.key, row]));
    const values = page.map((k) => this.textOf(k, now.get(k.key)));
    for (const k of page) this.earlier.delete(k.key);
    return values;
  }

  /**
   * True when the scan still needs the value `key` has before a write replaces it: a key of the
   * scan, not yet read, at the version the scan saw (only the first write after the scan's
   * revision replaces that one).
   */
  needs(key: string, modRevision: number): boolean {
    if (this.finished || this.earlier.has(key) || !key.startsWith(this.prefix)) return false;
    const i = this.indexOf(key);
    return i >= this.next_ && this.keys[i].mod_revision === modRevision;
  }

  /** Keeps `value`, which `key` had at the scan's revision, for the page that reads the key (the store calls it before a write replaces it). */
  preserve(key: string, value: string): void {
    this.earlier.set(key, value);
  }

  /** The position of key in this.keys (sorted as SQLite sorts TEXT, by bytes), or -1. */
  private indexOf(key: string): number {
    let lo = this.next_;
    let hi = this.keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const order = compareKeys(this.keys[mid].key, key);
      if (order === 0) return mid;
      if (order < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The value the scan's revision had, as stored: as it is now when unchanged, else as the store preserved it. */
  private textOf(k: ScanKey, current: ScanRow | undefined): StoredText {
    const text = current?.mod_revision === k.mod_revision ? current.value : this.earlier.get(k.key);
    // Unreachable while every write to an existing key calls preserveForScans first.
    if (text === undefined) throw new Error(`the SQLite scan of ${this.prefix} at revision ${this.revision} lost the value ${k.key} had then (revision ${k.mod_revision}): a write replaced it without handing it to the scan`);
    return { key: k.key, text, modRevision: k.mod_revision, createRevision: k.create_revision };
  }
}
