import type { ServerResponse } from 'node:http';
import type { Reply } from './handler';

/** A list answer from this many items on is written in slices. */
export const SLICED_FROM_ITEMS = 500;
/** Items encoded per slice: ~1 MB of pods, a few ms of the loop. */
const ITEMS_PER_SLICE = 200;

/**
 * Writes an answer: JSON at once, or, for a list of SLICED_FROM_ITEMS items or more, in slices
 * with the event loop free between them (and the client's reading paced by the stream's
 * back-pressure). Encoding a list of 30,000 pods at once held every other request and watch of the
 * master back for seconds; kube-apiserver encodes such lists item by item too, on a goroutine of
 * their own. The bytes are those of JSON.stringify of the whole answer. Returns a promise only for
 * a sliced answer, which ends when the last byte is handed to the stream (or the client left).
 */
export function writeReply(res: ServerResponse, reply: Reply): Promise<void> | undefined {
  const headers = { 'content-type': 'application/json', ...(reply.headers ?? {}) };
  const items = sliceableItems(reply.body);
  res.writeHead(reply.status, headers);
  if (!items) {
    res.end(typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body));
    return undefined;
  }
  return writeSliced(res, reply.body as Record<string, unknown>, items);
}

/** The items of a list answer worth slicing: an `items` array of enough entries, the body's last key (so the bytes match). */
function sliceableItems(body: unknown): unknown[] | undefined {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
  const items = (body as { items?: unknown }).items;
  if (!Array.isArray(items) || items.length < SLICED_FROM_ITEMS) return undefined;
  return Object.keys(body).at(-1) === 'items' ? items : undefined;
}

async function writeSliced(res: ServerResponse, body: Record<string, unknown>, items: unknown[]): Promise<void> {
  // `…"items":[]}` without its last two characters: everything before the first item.
  let text = JSON.stringify({ ...body, items: [] }).slice(0, -2);
  for (let i = 0; i < items.length; i += ITEMS_PER_SLICE) {
    for (let j = i; j < Math.min(i + ITEMS_PER_SLICE, items.length); j++) text += (j === 0 ? '' : ',') + JSON.stringify(items[j]);
    if (gone(res)) return;
    const flowing = res.write(text);
    text = '';
    // A socket that takes the bytes at once drains within this turn: the loop gets its turn anyway.
    if (!flowing) await drained(res);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!gone(res)) res.end(']}');
}

/** Resolves once the stream wants more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function gone(res: ServerResponse): boolean {
  // An HTTP/2 compatibility response has no destroyed of its own; its stream has.
  const stream = (res as { stream?: { destroyed?: boolean } }).stream;
  return res.writableEnded || res.destroyed || stream?.destroyed === true;
}
