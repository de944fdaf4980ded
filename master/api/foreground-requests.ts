/**
 * Counts the API requests being answered now, watches excepted (a watch stops counting once it
 * streams). The watch fan-out reads it to give way: a create should not wait behind the
 * delivery of earlier events to a thousand watchers (see watch-stream.ts).
 */
let inProgress = 0;

export interface ForegroundRequest {
  /** Idempotent: a request that turned into a watch ends here, and again when it is over. */
  end(): void;
}

export function beginForegroundRequest(): ForegroundRequest {
  inProgress++;
  let ended = false;
  return {
    end: () => {
      if (ended) return;
      ended = true;
      inProgress--;
    },
  };
}

export function foregroundRequests(): number {
  return inProgress;
}
