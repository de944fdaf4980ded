import type { ServerResponse } from 'node:http';

/** True once the client is gone or the response ended: nothing written now arrives. */
export function responseGone(res: ServerResponse): boolean {
  // An HTTP/2 compatibility response has no destroyed of its own; its stream has.
  const stream = (res as { stream?: { destroyed?: boolean } }).stream;
  return res.writableEnded || res.destroyed || stream?.destroyed === true;
}
