import type { ServerResponse } from 'node:http';
import { constants, type Http2Stream } from 'node:http2';
import type { Reply } from './handler';
import { ItemPages } from './item-pages';
import { fairShareMs } from './loop-share';
import { responseGone } from './response-gone';
import { WireText } from './wire-text';

/**
 * Encoding a list answer holds the event loop this long at a time, or longer (up to
 * MAX_SHARE_MS) when the loop ran other work longer than that between two slices. A list of every
 * pod at 1,000 nodes (30,000 pods, ~0.2 s of JSON.stringify) held every heartbeat and watch of the
 * master back; a namespace's 3,000 pods (~20 ms) take two or three turns.
 */
export const SLICE_BUDGET_MS = 8;
/** Lists shorter than this are encoded at once: reading the clock would cost more than it saves. */
const SLICED_FROM_ENTRIES = 64;
/** Entries encoded between two readings of the clock. */
const ENTRIES_PER_CLOCK_READ = 16;

/**
 * While an answer read a page at a time (ItemPages) has this much written but not yet taken by
 * the client, the next page waits for the client: such a list holds a few pages and this much
 * text, however slowly its client reads.
 */
export const MAX_BUFFERED_BYTES = 4 * 2 ** 20;

/**
 * Writes an answer with the bytes JSON.stringify gives the body. A list answer (a list's items, a
 * Table's rows) is encoded entry by entry in slices (see SLICE_BUDGET_MS) with a turn of the event
 * loop between them, as kube-apiserver encodes large lists item by item (on a goroutine of its
 * own). Slices of a list held whole are not paced by the client: the stream buffers what it has
 * not sent, as it buffers an answer written at once, so a slow reader costs memory, not the
 * request's time in the master. A list read a page at a time (ItemPages) is paced by its client
 * (MAX_BUFFERED_BYTES), so that it never is in memory whole, and a page that cannot be read
 * aborts the answer (the client sees a broken response, never a short list). Returns a promise
 * only when the answer took more than one slice; it ends with the last byte handed to the
 * stream, or when the client left.
 */
export function writeReply(res: ServerResponse, reply: Reply): Promise<void> | undefined {
  const headers = { 'content-type': 'application/json', ...(reply.headers ?? {}) };
  const list = sliceableList(reply.body);
  res.writeHead(reply.status, headers);
  if (!list) {
    res.end(typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body));
    return undefined;
  }
  // `…"items":[]}` without its last two characters: everything before the first entry.
  const head = JSON.stringify({ ...(reply.body as Record<string, unknown>), [list.key]: [] }).slice(0, -2);
  const writer = new SlicedList(res, list.entries, head);
  const ended = writer.slice();
  return ended === 'done' ? undefined : writer.rest(ended);
}

/** The arrays a list answer ends with: a list's items, a Table's rows (`kubectl get` asks for Tables). */
const LIST_KEYS = new Set(['items', 'rows']);

/** The entries of a list answer worth slicing: enough of them, or pages to read, under the body's last key (so the bytes match). */
function sliceableList(body: unknown): { key: string; entries: unknown[] | ItemPages } | undefined {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
  const key = Object.keys(body).at(-1);
  if (key === undefined || !LIST_KEYS.has(key)) return undefined;
  const entries = (body as Record<string, unknown>)[key];
  if (entries instanceof ItemPages) return { key, entries };
  return Array.isArray(entries) && entries.length >= SLICED_FROM_ENTRIES ? { key, entries } : undefined;
}

/** One entry of a list answer as JSON: an object already in its wire text (a list read from the store) as it is. */
function encodeEntry(entry: unknown): string {
  return entry instanceof WireText ? entry.text : (JSON.stringify(entry) ?? 'null');
}

/** Why a slice stopped: the answer is complete, its budget is spent, or its page is (the next is to be read). */
type SliceEnd = 'done' | 'budget' | 'page';

/** One list answer being written: where it is, and what is encoded but not yet written. */
class SlicedList {
  /** The entries being encoded: all of them, or the page read last. */
  private entries: unknown[];
  private next = 0;
  private written = 0;
  /** When the last slice ended (performance.now()); the first slice gets SLICE_BUDGET_MS. */
  private lastEnded: number | undefined;
  /** The deadline the last slice had. */
  private until = 0;

  constructor(
    private readonly res: ServerResponse,
    entries: unknown[] | ItemPages,
    private text: string,
    private readonly pages: ItemPages | undefined = entries instanceof ItemPages ? entries : undefined,
  ) {
    this.entries = Array.isArray(entries) ? entries : [];
  }

  /**
   * Encodes until `until` (performance.now(); by default one budget from now) or until the entries
   * run out, writes it, and says why it stopped: the answer is complete, the budget is spent, or
   * the page is (the next one is to be read).
   */
  slice(until = this.budgetFrom(performance.now())): SliceEnd {
    const { entries } = this;
    while (this.next < entries.length) {
      const end = Math.min(this.next + ENTRIES_PER_CLOCK_READ, entries.length);
      for (let j = this.next; j < end; j++) this.text += (this.written++ === 0 ? '' : ',') + encodeEntry(entries[j]);
      this.next = end;
      if (performance.now() >= until) break;
    }
    const exhausted = this.next === entries.length;
    const done = exhausted && !this.pages;
    if (done) this.res.end(this.text + ']}');
    else if (this.text) this.res.write(this.text);
    this.text = '';
    this.lastEnded = performance.now();
    this.until = until;
    return done ? 'done' : exhausted ? 'page' : 'budget';
  }

  /**
   * The rest of the answer, a slice a turn. A page read without waiting for I/O (SQLite's) is
   * encoded in what is left of the budget of the slice that ran out of entries, in the same turn:
   * a turn per page would make a list of 5,000 nodes (20 pages) wait for 20 turns of a busy loop.
   */
  async rest(ended: SliceEnd): Promise<void> {
    for (;;) {
      if (ended === 'page') {
        const deadline = this.until;
        if (!(await this.readPage())) return;
        if (performance.now() < deadline) {
          ended = this.slice(deadline);
          if (ended === 'done') return;
          continue;
        }
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (responseGone(this.res)) return;
      ended = this.slice();
      if (ended === 'done') return;
    }
  }

  /** One budget from `started`: SLICE_BUDGET_MS, or as long as the loop ran other work since the last slice (fairShareMs). */
  private budgetFrom(started: number): number {
    // With turns of the loop longer than the budget, 8 ms a turn would leave a list of 5,000
    // nodes waiting seconds for its turns: it gets as long as the loop ran other work meanwhile.
    return started + (this.lastEnded === undefined ? SLICE_BUDGET_MS : fairShareMs(started - this.lastEnded, SLICE_BUDGET_MS));
  }

  /** The next page to encode, once the client has taken what was written; false when the answer ended (or was aborted). */
  private async readPage(): Promise<boolean> {
    const pages = this.pages as ItemPages;
    await untilTaken(this.res, MAX_BUFFERED_BYTES);
    if (responseGone(this.res)) return false;
    let page: unknown[] | undefined;
    try {
      page = await pages.next();
    } catch (err) {
      abortAnswer(this.res);
      throw err;
    }
    if (page === undefined) {
      this.res.end(']}');
      return false;
    }
    this.entries = page;
    this.next = 0;
    return true;
  }
}

/** The response's bytes written but not yet taken by the client (HTTP/2: its stream's). */
function buffered(res: ServerResponse): { stream: NodeJS.EventEmitter; bytes: number } {
  const stream = (res as { stream?: NodeJS.EventEmitter & { writableLength: number } }).stream;
  return stream ? { stream, bytes: stream.writableLength } : { stream: res, bytes: res.writableLength };
}

/** Resolves once at most `bytes` wait for the client, or the response is gone. */
async function untilTaken(res: ServerResponse, bytes: number): Promise<void> {
  for (;;) {
    const now = buffered(res);
    if (now.bytes <= bytes || responseGone(res)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        now.stream.off('drain', done);
        now.stream.off('close', done);
        resolve();
      };
      now.stream.once('drain', done);
      now.stream.once('close', done);
    });
  }
}

/**
 * Ends an answer that cannot be completed so that its client sees it broken (HTTP/2: the stream
 * reset; HTTP/1.1: the connection closed before the last chunk): a short list must not pass for
 * a whole one.
 */
export function abortAnswer(res: ServerResponse): void {
  const stream = (res as { stream?: Http2Stream }).stream;
  if (stream) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  else res.destroy();
}
