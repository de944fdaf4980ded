import type { ServerResponse } from 'node:http';
import type { Reply } from './handler';
import { fairShareMs } from './loop-share';
import { responseGone } from './response-gone';

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
 * Writes an answer with the bytes JSON.stringify gives the body. A list answer (a list's items, a
 * Table's rows) is encoded entry by entry in slices (see SLICE_BUDGET_MS) with a turn of the event
 * loop between them, as kube-apiserver encodes large lists item by item (on a goroutine of its
 * own). Slices are not paced by the client: the stream buffers what it has not sent, as it buffers
 * an answer written at once, so a slow reader costs memory, not the request's time in the master. Returns a promise only when
 * the answer took more than one slice; it ends with the last byte handed to the stream, or when
 * the client left.
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
  return writer.slice() ? undefined : writer.rest();
}

/** The arrays a list answer ends with: a list's items, a Table's rows (`kubectl get` asks for Tables). */
const LIST_KEYS = new Set(['items', 'rows']);

/** The entries of a list answer worth slicing: enough of them, under the body's last key (so the bytes match). */
function sliceableList(body: unknown): { key: string; entries: unknown[] } | undefined {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
  const key = Object.keys(body).at(-1);
  if (key === undefined || !LIST_KEYS.has(key)) return undefined;
  const entries = (body as Record<string, unknown>)[key];
  return Array.isArray(entries) && entries.length >= SLICED_FROM_ENTRIES ? { key, entries } : undefined;
}

/** One list answer being written: where it is, and what is encoded but not yet written. */
class SlicedList {
  private next = 0;
  /** When the last slice ended (performance.now()); the first slice gets SLICE_BUDGET_MS. */
  private lastEnded: number | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly entries: unknown[],
    private text: string,
  ) {}

  /** Encodes for one budget and writes it; true once the answer is complete. */
  slice(): boolean {
    const started = performance.now();
    // With turns of the loop longer than the budget, 8 ms a turn would leave a list of 5,000
    // nodes waiting seconds for its turns: it gets as long as the loop ran other work meanwhile.
    const until = started + (this.lastEnded === undefined ? SLICE_BUDGET_MS : fairShareMs(started - this.lastEnded, SLICE_BUDGET_MS));
    const { entries } = this;
    while (this.next < entries.length) {
      const end = Math.min(this.next + ENTRIES_PER_CLOCK_READ, entries.length);
      for (let j = this.next; j < end; j++) this.text += (j === 0 ? '' : ',') + (JSON.stringify(entries[j]) ?? 'null');
      this.next = end;
      if (performance.now() >= until) break;
    }
    const done = this.next === entries.length;
    if (done) this.res.end(this.text + ']}');
    else this.res.write(this.text);
    this.text = '';
    this.lastEnded = performance.now();
    return done;
  }

  async rest(): Promise<void> {
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (responseGone(this.res)) return;
      if (this.slice()) return;
    }
  }
}
