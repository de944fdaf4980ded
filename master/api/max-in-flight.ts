import { MASTERS, NODES, type Identity } from '../auth/identity';
import { errors } from './status';

/** kube-apiserver's --max-requests-inflight and --max-mutating-requests-inflight defaults. */
export const DEFAULT_MAX_READS_IN_FLIGHT = 400;
export const DEFAULT_MAX_MUTATIONS_IN_FLIGHT = 200;

/** Requests that may wait for a slot, per bound, before the next is refused. */
export const DEFAULT_MAX_QUEUED = 1_000;
/** How long a request waits for a slot before it is refused. */
export const DEFAULT_QUEUE_WAIT_MS = 10_000;

export interface MaxInFlightOptions {
  /** Reads (get, list) answered at once before the next waits; 0 turns the limit off. */
  maxReads?: number;
  /**
   * Writes (create, update, patch, delete, deletecollection) answered at once before the next
   * waits; 0 turns the limit off. Node heartbeats are bounded per node instead (HEARTBEATS_PER_NODE).
   */
  maxMutations?: number;
  /** Requests waiting for a slot, per bound, before the next is refused at once (0: none wait). */
  maxQueued?: number;
  /** How long a request waits for a slot before it is refused. */
  queueWaitMs?: number;
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
 * Kubernetes' max-in-flight filter with API Priority and Fairness's queueing: past a bound on the
 * requests being answered at once, a request waits (first come, first served) for a slot, and is
 * refused with 429 and `Retry-After: 1` only when maxQueued others already wait or it waited
 * queueWaitMs. Every request admitted waits on the one event loop with the others, so without a
 * bound a burst of nodes made each call slower until store calls missed their deadline and the
 * retries fed the burst (the etcd density run). Refusing at once instead turned overload into a
 * retry storm: at 5,000 nodes 481,266 pod status writes were refused against 159,886 answered,
 * each refusal costing the master a parse, an authentication and an answer, and each agent a
 * resend after Retry-After. system:masters (the scheduler and controllers, the admin) is never
 * held, as in kube-apiserver, and watches and streams are not counted: they last as long as the
 * client.
 *
 * A node's heartbeats (its Lease in kube-node-lease, its Node's status) are bounded per node, not
 * against the others: API Priority and Fairness gives them the system-node-high level. A shared
 * bound refused them whenever the event loop fell behind: at 5,000 nodes (500 renewals/s) a few
 * hundred ms of delay put 200 renewals in flight, and more than half of all renewals were refused
 * and sent again, which cost the master more than answering them and let Leases age towards
 * NotReady. Each node holds at most one renewal and one status write waiting for an answer, so the
 * node count bounds them already; the per-node bound stops a node that sends more.
 */
export class MaxInFlight {
  private readonly levels: Record<Level, Bound>;
  private readonly heartbeats = new Map<string, number>();

  constructor(options: MaxInFlightOptions = {}) {
    const queue = { maxQueued: options.maxQueued ?? DEFAULT_MAX_QUEUED, waitMs: options.queueWaitMs ?? DEFAULT_QUEUE_WAIT_MS };
    this.levels = {
      reads: new Bound(options.maxReads ?? DEFAULT_MAX_READS_IN_FLIGHT, queue.maxQueued, queue.waitMs),
      mutations: new Bound(options.maxMutations ?? DEFAULT_MAX_MUTATIONS_IN_FLIGHT, queue.maxQueued, queue.waitMs),
    };
  }

  /**
   * Counts the request in, at once or once a slot is free; rejects with the 429 when it may not
   * wait. Call the resolved function once the request is answered.
   */
  admit(who: Identity, r: InFlightRequest): Promise<() => void> {
    if (r.verb === 'watch' || (r.subresource && longRunningSubresources.has(r.subresource)) || who.groups.includes(MASTERS)) return Promise.resolve(noop);
    if (isHeartbeat(who, r)) return this.admitHeartbeat(who.user);
    return this.levels[mutatingVerbs.has(r.verb) ? 'mutations' : 'reads'].acquire();
  }

  /** Requests waiting for a slot now, reads and writes together. */
  queued(): number {
    return this.levels.reads.waiting() + this.levels.mutations.waiting();
  }

  private admitHeartbeat(node: string): Promise<() => void> {
    const n = this.heartbeats.get(node) ?? 0;
    if (n >= HEARTBEATS_PER_NODE) return Promise.reject(tooMany());
    this.heartbeats.set(node, n + 1);
    return Promise.resolve(
      once(() => {
        const left = (this.heartbeats.get(node) ?? 1) - 1;
        if (left > 0) this.heartbeats.set(node, left);
        else this.heartbeats.delete(node);
      }),
    );
  }
}

/** One bound: slots in use, and the requests waiting for one in arrival order. */
class Bound {
  private inUse = 0;
  private readonly queue: { grant: () => void; timer: NodeJS.Timeout }[] = [];

  /** limit 0: no bound. */
  constructor(
    private readonly limit: number,
    private readonly maxQueued: number,
    private readonly waitMs: number,
  ) {}

  acquire(): Promise<() => void> {
    if (this.limit <= 0 || this.inUse < this.limit) {
      this.inUse++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueued) return Promise.reject(tooMany());
    return new Promise((resolve, reject) => {
      const waiter = {
        // The slot passes straight from the releasing request to this one: inUse stays as it is.
        grant: () => (clearTimeout(waiter.timer), resolve(this.releaser())),
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          reject(tooMany());
        }, this.waitMs),
      };
      this.queue.push(waiter);
    });
  }

  waiting(): number {
    return this.queue.length;
  }

  private releaser(): () => void {
    return once(() => {
      const next = this.queue.shift();
      if (next) next.grant();
      else this.inUse--;
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
