import { MASTERS, NODES, type Identity } from '../auth/identity';
import { errors } from './status';

/** kube-apiserver's --max-requests-inflight and --max-mutating-requests-inflight defaults. */
export const DEFAULT_MAX_READS_IN_FLIGHT = 400;
export const DEFAULT_MAX_MUTATIONS_IN_FLIGHT = 200;

export interface MaxInFlightOptions {
  /** Reads (get, list) answered at once before the next is refused; 0 turns the limit off. */
  maxReads?: number;
  /**
   * Writes (create, update, patch, delete, deletecollection) answered at once; 0 turns the limit
   * off. Node heartbeats have a bound of the same size of their own.
   */
  maxMutations?: number;
}

/** What the filter needs to know of a request. */
export interface InFlightRequest {
  verb: string;
  plural: string;
  subresource?: string;
  namespace?: string;
}

type Level = 'reads' | 'mutations' | 'heartbeats';

const mutatingVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
/** Requests that stream for as long as the client wants (kube-apiserver's long-running check). */
const longRunningSubresources = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

/**
 * Kubernetes' max-in-flight filter: past a bound on the requests being answered at once, a request
 * is refused at once with 429 and `Retry-After: 1` instead of joining the queue. Every request
 * admitted waits on the one event loop with the others, so without a bound a burst of nodes made
 * each call slower until store calls missed their deadline and the retries fed the burst (the
 * etcd density run). system:masters (the scheduler and controllers, the admin) is never refused,
 * as in kube-apiserver, and watches and streams are not counted: they last as long as the client.
 *
 * A node's heartbeats (its Lease in kube-node-lease, its Node's status) count against a bound of
 * their own, as API Priority and Fairness gives them the system-node-high level: refused behind a
 * flood of pod status writes, they let the node go NotReady and its pods be evicted.
 */
export class MaxInFlight {
  private readonly current: Record<Level, number> = { reads: 0, mutations: 0, heartbeats: 0 };

  constructor(private readonly options: MaxInFlightOptions = {}) {}

  /** Counts the request in, or throws the 429; call the returned function once it is answered. */
  admit(who: Identity, r: InFlightRequest): () => void {
    if (r.verb === 'watch' || (r.subresource && longRunningSubresources.has(r.subresource)) || who.groups.includes(MASTERS)) return noop;
    const level = levelOf(who, r);
    const limit = level === 'reads' ? (this.options.maxReads ?? DEFAULT_MAX_READS_IN_FLIGHT) : (this.options.maxMutations ?? DEFAULT_MAX_MUTATIONS_IN_FLIGHT);
    if (limit > 0 && this.current[level] >= limit) throw errors.tooManyRequests('Too many requests, please try again later.', 1);
    this.current[level]++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.current[level]--;
    };
  }
}

function levelOf(who: Identity, r: InFlightRequest): Level {
  const heartbeat = (r.plural === 'leases' && r.namespace === 'kube-node-lease') || (r.plural === 'nodes' && r.subresource === 'status');
  if (heartbeat && who.groups.includes(NODES)) return 'heartbeats';
  return mutatingVerbs.has(r.verb) ? 'mutations' : 'reads';
}

function noop(): void {}
