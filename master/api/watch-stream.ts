import type { ServerResponse } from 'node:http';
import { foregroundRequests } from './foreground-requests';
import { fairShareMs } from './loop-share';
import { responseGone } from './response-gone';

/** How long one slice of watch writes may hold the event loop before requests get their turn. */
const SLICE_MS = 2;
/** The slice while requests are being answered: a write's own answer waits at most this long per turn. */
const BUSY_SLICE_MS = 0.25;
/** A stream that has waited this long gets a fair share again, requests or not: the fan-out never starves. */
const STARVED_MS = 100;

/**
 * The lines of one watch response, written off the path of the write that caused them and
 * together when several are waiting. A store write fans out to every watcher of its resource,
 * and writing to each watcher's TLS connection is the dominant cost (~25 µs a connection): done
 * inline, it ran before the writer's own response, so a create's latency grew with the number of
 * watchers. Here the fan-out queues lines and returns; the queued streams are written in slices
 * of at most SLICE_MS, each followed by a rest as long, in which the event loop serves requests,
 * and a stream that receives more events before its turn sends them in one write (one TLS
 * record, one syscall). Order within
 * a stream is kept; kube-apiserver decouples writers from watchers the same way, through its watch
 * cache's per-watcher buffers.
 */
export class WatchStream {
  /** Lines not yet written; none most of the time, so no array then (one stream per open watch). */
  private pending: string[] | undefined;
  /** When the oldest line in pending was queued (performance.now(), a number: a bigint is an allocation). */
  queuedAt = 0;

  constructor(private readonly res: ServerResponse) {}

  write(line: string): void {
    if (this.res.writableEnded) return;
    if (!this.pending) {
      this.pending = [];
      this.queuedAt = performance.now();
    }
    this.pending.push(line);
    schedule(this);
  }

  /** True once the client is gone or the response ended: nothing written now arrives. */
  gone(): boolean {
    return responseGone(this.res);
  }

  /** Calls listener once the client is gone or the response ended. */
  onClose(listener: () => void): void {
    this.res.on('close', listener);
  }

  /** Writes what is queued now (in order with earlier lines) and ends the response. */
  end(): void {
    this.flush();
    queued.delete(this);
    if (!this.res.writableEnded) this.res.end();
  }

  flush(): void {
    if (!this.pending) return;
    const text = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = undefined;
    if (this.gone()) return;
    this.res.write(text);
    // A chunked write corks the socket and leaves the real write (TLS and the syscall, most of
    // the cost) to a nextTick, after the slice's clock stopped; uncorking now does it inside the
    // slice. The later nextTick uncork then finds nothing corked and does nothing.
    this.res.socket?.uncork();
  }
}

const queued = new Set<WatchStream>();
let scheduled = false;
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
 * How long the next slice may run: short while requests are being answered, so a create's own
 * store write and answer (each a turn of the event loop) wait at most BUSY_SLICE_MS behind the
 * delivery of earlier events; SLICE_MS when the API is idle. Once a stream has waited STARVED_MS,
 * the slice may run as long as the loop ran other work since the last one (fairShareMs: at least
 * SLICE_MS, at most MAX_SHARE_MS): the fan-out then gets up to half of a busy master. A fixed
 * 2 ms per turn was not enough when turns were long: at 1,000 nodes, ~700 watch writes a second
 * (most of them bookmarks of idle ConfigMap watches) queued up behind each other, and a pod event
 * waited 2.5 s (p50) to 21 s (p99) before it was written.
 */
export function sliceBudgetMs(requestsInProgress: number, longestWaitMs: number, sinceLastSliceMs = 0): number {
  if (longestWaitMs >= STARVED_MS) return fairShareMs(sinceLastSliceMs, SLICE_MS);
  return requestsInProgress === 0 ? SLICE_MS : BUSY_SLICE_MS;
}

/**
 * Writes queued streams for at most the slice budget, then rests as long as it ran before the
 * next slice: the fan-out takes at most half of the event loop however many watchers there are,
 * and a stream whose turn comes later sends every line that arrived meanwhile in one write. With
 * few watchers a slice takes microseconds and the next one follows at once.
 */
function writeSlice(): void {
  scheduled = false;
  const started = process.hrtime.bigint();
  // The set keeps the order streams were queued in: the first has waited longest.
  const first = queued.values().next().value as WatchStream | undefined;
  const longestWaitMs = first ? performance.now() - first.queuedAt : 0;
  const sinceLastSliceMs = Number(started - lastSlice.endedAt) / 1e6;
  const budgetNs = sliceBudgetMs(foregroundRequests(), longestWaitMs, sinceLastSliceMs) * 1e6;
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
