import type { ServerResponse } from 'node:http';
import type { Identity } from '../auth/identity';
import type { Metrics } from '../metrics';
import type { ForegroundRequest } from './foreground-requests';
import type { WatchHooks } from './watch';

/** What a watch's request line is counted with when the watch ends. */
export interface WatchEnd {
  readonly method?: string;
  readonly url?: string;
  readonly verb: string;
  readonly resource: string;
  readonly res: ServerResponse;
  readonly who: Identity;
  /** process.hrtime.bigint() when the request arrived. */
  readonly started: bigint;
}

/**
 * The accounting of one request that may open a watch, which streams long after the API server's
 * serve() has returned: it counts the watch open, lets the fan-out stop deferring to it, and
 * records the request's metric and log line when the watch ends. An object with methods rather
 * than closures over serve()'s frame, which kept that frame (the request's start, its line, its
 * foreground marker) for the watch's whole life: ~300 bytes a watch, of ~115,000 at 5,000 nodes.
 */
export class WatchAccount implements WatchHooks, WatchEnd {
  /** The 200 went out: the request is now counted when the watch ends, not when serve() returns. */
  streaming = false;

  constructor(
    private readonly metrics: Metrics,
    private readonly record: (end: WatchEnd) => void,
    private foreground: ForegroundRequest | undefined,
    readonly method: string | undefined,
    readonly url: string | undefined,
    readonly verb: string,
    readonly resource: string,
    readonly res: ServerResponse,
    readonly who: Identity,
    readonly started: bigint,
  ) {}

  opened(): void {
    this.streaming = true;
    // A watch streams for minutes: the fan-out should not give way to it.
    this.foreground?.end();
    this.foreground = undefined;
    this.metrics.watchOpened();
  }

  closed(): void {
    this.metrics.watchClosed();
    this.record(this);
  }
}
