import { WatchManager } from 'etcd3/lib/watch';

/** What the guard needs of etcd3's (private) watch manager. */
interface WatchManagerInternals {
  watchers: { id: string | null }[];
  handleResponse(res: WatchResponse): void;
  handleError(err: Error): void;
}

interface WatchResponse {
  watch_id: string;
  canceled?: boolean;
}

let installed = false;
let unknownResponses = 0;

/**
 * etcd3 1.1.2 throws from its gRPC watch stream's data handler when a response names a watch id
 * it no longer tracks ("Failed to find watcher for IWatchResponse"). Thrown there, nothing can
 * catch it and the master process dies: the density bench on etcd lost its master that way at
 * 1,000 nodes, under heavy watch churn. The guard takes such a response as a sign the stream's
 * bookkeeping is off and treats the stream as broken: the library then re-creates every watch on
 * a new stream from the revision it had reached, so no event is lost and the master lives. A
 * cancellation of a watch the library already forgot needs nothing at all.
 */
export function guardEtcdWatchStreams(): void {
  if (installed) return;
  installed = true;
  const proto = WatchManager.prototype as unknown as WatchManagerInternals;
  const original = proto.handleResponse;
  proto.handleResponse = function guarded(this: WatchManagerInternals, res: WatchResponse): void {
    if (this.watchers.some((w) => w.id === res.watch_id)) return original.call(this, res);
    unknownResponses++;
    if (unknownResponses === 1) process.emitWarning(`etcd sent a watch response for watch ${res.watch_id}, which the client no longer tracks; re-creating the watch stream`, 'LotseEtcdWatch');
    if (!res.canceled) this.handleError(new Error(`etcd watch response for unknown watch ${res.watch_id}`));
  };
}

/** How many responses for unknown watches the guard has absorbed (for tests and diagnosis). */
export function unknownWatchResponses(): number {
  return unknownResponses;
}
