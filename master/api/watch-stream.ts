import type { ServerResponse } from 'node:http';
import { foregroundRequests, onForegroundIdle } from './foreground-requests';

/** How long one slice of watch writes may hold the event loop before requests get their turn. */
const SLICE_MS = 2;
/** A stream that has waited this long gets full slices again, requests or not: the fan-out never starves. */
const STARVED_MS = 100;

/**
 * The lines of one watch response, written off the path of the write that caused them and
 * together when several are waiting. A store write fans out to every watcher of its resource,
 * and writing to each watcher's TLS connection is the dominant cost (~25 µs a connection): done
 * inline, it ran before the writer's own response, so a create's latency grew with the number of
 * watchers. Here the fan-out queues lines and returns; the queued streams are written in slices
 * of at most SLICE_MS, each followed by a rest as long, in which the event loop serves requests;
 * while requests are being answered no slice runs (up to STARVED_MS), and a stream that receives
 * more events before its turn sends them in one write (one TLS record, one syscall). Order within
 * a stream is kept; kube-apiserver decouples writers from watchers the same way, through its watch
 * cache's per-watcher buffers.
 */
export class WatchStream {
  private pending: string[] = [];
  /** When the oldest line in pending was queued (hrtime ns). */
  queuedAt = 0n;

  constructor(private readonly res: ServerResponse) {}

  write(line: string): void {
    if (this.res.writableEnded) return;
    if (this.pending.length === 0) this.queuedAt = process.hrtime.bigint();
    this.pending.push(line);
    schedule(this);
  }

  /** Writes what is queued now (in order with earlier lines) and ends the response. */
  end(): void {
    this.flush();
    queued.delete(this);
    if (!this.res.writableEnded) this.res.end();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.write(text);
    // A chunked write corks the socket and leaves the real write (TLS and the syscall, most of
    // the cost) to a nextTick, after the slice's clock stopped; uncorking now does it inside the
    // slice. The later nextTick uncork then finds nothing corked and does nothing.
    this.res.socket?.uncork();
  }
}

const queued = new Set<WatchStream>();
/** A slice is due: on the next turn of the event loop, after a rest, or once requests end. */
let scheduled = false;
/** The timer of a slice put off while requests are being answered (fires when a stream starves). */
let deferred: NodeJS.Timeout | undefined;
/** When the last slice ended and how long it ran: the next one waits as long (see writeSlice). */
let lastSlice = { endedAt: 0n, ranNs: 0n };

function schedule(stream: WatchStream): void {
  queued.add(stream);
  if (!scheduled) scheduleSlice();
}

function scheduleSlice(): void {
  scheduled = true;
  const waitMs = Number(lastSlice.endedAt + lastSlice.ranNs - process.hrtime.bigint()) / 1e6;
  if (waitMs < 0.5) setImmediate(writeSlice);
  else setTimeout(writeSlice, waitMs);
}

/**
 * How long the next slice may run: nothing while requests are being answered, so a create's own
 * store write and answer (each a turn of the event loop) never wait behind the delivery of
 * earlier events (even 0.25 ms slices between its turns made a create 1.6x slower at 1,000
 * watchers); the full SLICE_MS when the API is idle or a stream has waited STARVED_MS, so a
 * steady request load cannot hold the watchers back without bound.
 */
export function sliceBudgetMs(requestsInProgress: number, longestWaitMs: number): number {
  return requestsInProgress === 0 || longestWaitMs >= STARVED_MS ? SLICE_MS : 0;
}

// The last request in progress ended: a slice put off for it runs now.
onForegroundIdle(() => {
  if (!deferred) return;
  clearTimeout(deferred);
  deferred = undefined;
  setImmediate(writeSlice);
});

/**
 * Writes queued streams for at most the slice budget, then rests as long as it ran before the
 * next slice: the fan-out takes at most half of the event loop however many watchers there are,
 * and a stream whose turn comes later sends every line that arrived meanwhile in one write. With
 * few watchers a slice takes microseconds and the next one follows at once.
 */
function writeSlice(): void {
  scheduled = false;
  deferred = undefined;
  const started = process.hrtime.bigint();
  // The set keeps the order streams were queued in: the first has waited longest.
  const first = queued.values().next().value as WatchStream | undefined;
  const longestWaitMs = first ? Number(started - first.queuedAt) / 1e6 : 0;
  const budgetNs = sliceBudgetMs(foregroundRequests(), longestWaitMs) * 1e6;
  if (budgetNs === 0 && first) {
    // Put off until the requests end (onForegroundIdle) or the oldest stream starves.
    scheduled = true;
    deferred = setTimeout(writeSlice, Math.max(1, STARVED_MS - longestWaitMs));
    return;
  }
  let written = 0;
  for (const stream of queued) {
    queued.delete(stream);
    stream.flush();
    // Reading the clock costs too: look every 8 writes.
    if (++written % 8 === 0 && Number(process.hrtime.bigint() - started) > budgetNs) break;
  }
  const ended = process.hrtime.bigint();
  lastSlice = { endedAt: ended, ranNs: ended - started };
  if (queued.size > 0 && !scheduled) scheduleSlice();
}
