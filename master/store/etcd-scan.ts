import { decodeStoredText, type StoredText, type StoredValue, type StoreScan } from './store';

/** One page of a range read at a revision: its values as stored, and whether keys follow the last one. */
export interface EtcdScanPage {
  items: StoredText[];
  more: boolean;
}

/**
 * A scan of etcd at one revision: each page is a range read of at most the page size, at the
 * first page's revision (etcd keeps every revision until it is compacted), starting after the
 * last key of the page before. A list so holds one page of values at a time, as kube-apiserver
 * reads etcd in pages for a paginated list.
 */
export class EtcdScan implements StoreScan {
  private pending: EtcdScanPage | undefined;
  private lastKey: string | undefined;
  private done = false;

  /** first: the page read at the scan's revision; readAfter reads the page after a key at that revision. */
  constructor(
    readonly revision: number,
    first: EtcdScanPage,
    private readonly readAfter: (key: string, revision: number) => Promise<EtcdScanPage>,
  ) {
    this.pending = first;
  }

  async next(): Promise<StoredValue[] | undefined> {
    return (await this.nextText())?.map(decodeStoredText);
  }

  async nextText(): Promise<StoredText[] | undefined> {
    if (this.done) return undefined;
    const page = this.pending ?? (await this.readAfter(this.lastKey as string, this.revision));
    this.pending = undefined;
    if (!page.more || page.items.length === 0) this.done = true;
    if (page.items.length > 0) this.lastKey = page.items[page.items.length - 1].key;
    return page.items.length > 0 ? page.items : undefined;
  }
}
