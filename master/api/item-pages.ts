/**
 * A list's items made a page at a time while its answer is written (reply-writer.ts), for a list
 * without a limit that is longer than a page: read from a StoreScan, or from the list cache's
 * candidates, so neither its objects nor its encoding are ever held whole (kube-apiserver streams
 * large list answers item by item too).
 */
export class ItemPages<T = unknown> {
  constructor(private readonly source: () => Promise<T[] | undefined>) {}

  /** The next page, or undefined after the last; rejects when the items cannot be read on. */
  next(): Promise<T[] | undefined> {
    return this.source();
  }

  /** These pages with each item changed by fn as its page is read (a Table's rows from objects). */
  map<U>(fn: (item: T) => U): ItemPages<U> {
    return new ItemPages(async () => (await this.source())?.map(fn));
  }
}

/** A list's items: all of them, or pages still to be read. */
export type Items<T> = T[] | ItemPages<T>;

/** items with fn applied to each, in the same form. */
export function mapItems<T, U>(items: Items<T>, fn: (item: T) => U): Items<U> {
  return items instanceof ItemPages ? items.map(fn) : items.map(fn);
}
