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
   * off. Node heartbeats are bounded per node instead (HEARTBEATS_PER_NODE).
   */
  maxMutations?: number;
}

/**
 * A node's heartbeats (Lease renewals, status writes) answered at once. An agent sends one of each
 * and waits for the answer, so 4 leaves room for a client's own retry of a request the master is
 * still answering; more is a node flooding the master, refused whatever the others do.
 */
export const HEARTBEATS_PER_NODE = 4;

/** What the filter needs to know of a request. */
export interface InFlightRequest {
  verb: string;
  plural: string;
  subresource?: string;
  namespace?: string;
}

type Level = 'reads' | 'mutations';

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
 * A node's heartbeats (its Lease in kube-node-lease, its Node's status) are bounded per node, not
 * against the others: API Priority and Fairness gives them the system-node-high level and queues
 * them rather than refusing. A shared bound refused them whenever the event loop fell behind: at
 * 5,000 nodes (500 renewals/s) a few hundred ms of delay put 200 renewals in flight, and more than
 * half of all renewals were refused and sent again, which cost the master more than answering them
 * and let Leases age towards NotReady. Each node holds at most one renewal and one status write
 * waiting for an answer, so the node count bounds them already; the per-node bound stops a node
 * that sends more.
 */
export class MaxInFlight {
  private readonly current: Record<Level, number> = { reads: 0, mutations: 0 };
  private readonly heartbeats = new Map<string, number>();

  constructor(private readonly options: MaxInFlightOptions = {}) {}

  /** Counts the request in, or throws the 429; call the returned function once it is answered. */
  admit(who: Identity, r: InFlightRequest): () => void {
    if (r.verb === 'watch' || (r.subresource && longRunningSubresources.has(r.subresource)) || who.groups.includes(MASTERS)) return noop;
    if (isHeartbeat(who, r)) return this.admitHeartbeat(who.user);
    const level: Level = mutatingVerbs.has(r.verb) ? 'mutations' : 'reads';
    const limit = level === 'reads' ? (this.options.maxReads ?? DEFAULT_MAX_READS_IN_FLIGHT) : (this.options.maxMutations ?? DEFAULT_MAX_MUTATIONS_IN_FLIGHT);
    if (limit > 0 && this.current[level] >= limit) throw tooMany();
    this.current[level]++;
    return once(() => this.current[level]--);
  }

  private admitHeartbeat(node: string): () => void {
    const n = this.heartbeats.get(node) ?? 0;
    if (n >= HEARTBEATS_PER_NODE) throw tooMany();
    this.heartbeats.set(node, n + 1);
    return once(() => {
      const left = (this.heartbeats.get(node) ?? 1) - 1;
      if (left > 0) this.heartbeats.set(node, left);
      else this.heartbeats.delete(node);
    });
  }
}

function isHeartbeat(who: Identity, r: InFlightRequest): boolean {
  const heartbeat = (r.plural === 'leases' && r.namespace === 'kube-node-lease') || (r.plural === 'nodes' && r.subresource === 'status');
  return heartbeat && who.groups.includes(NODES);
}

function tooMany(): Error {
  return errors.tooManyRequests('Too many requests, please try again later.', 1);
}

/** The release, which frees the slot the first time only. */
function once(release: () => void): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}

function noop(): void {}
