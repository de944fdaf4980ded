import { MASTERS, type Identity } from '../auth/identity';
import { errors } from './status';

/** kube-apiserver's --max-requests-inflight and --max-mutating-requests-inflight defaults. */
export const DEFAULT_MAX_READS_IN_FLIGHT = 400;
export const DEFAULT_MAX_MUTATIONS_IN_FLIGHT = 200;

export interface MaxInFlightOptions {
  /** Reads (get, list) answered at once before the next is refused; 0 turns the limit off. */
  maxReads?: number;
  /** Writes (create, update, patch, delete, deletecollection) answered at once; 0 turns the limit off. */
  maxMutations?: number;
}

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
 */
export class MaxInFlight {
  private reads = 0;
  private mutations = 0;

  constructor(private readonly options: MaxInFlightOptions = {}) {}

  /** Counts the request in, or throws the 429; call the returned function once it is answered. */
  admit(who: Identity, verb: string, subresource: string | undefined): () => void {
    if (verb === 'watch' || (subresource && longRunningSubresources.has(subresource)) || who.groups.includes(MASTERS)) return noop;
    const mutating = mutatingVerbs.has(verb);
    const limit = mutating ? (this.options.maxMutations ?? DEFAULT_MAX_MUTATIONS_IN_FLIGHT) : (this.options.maxReads ?? DEFAULT_MAX_READS_IN_FLIGHT);
    const current = mutating ? this.mutations : this.reads;
    if (limit > 0 && current >= limit) {
      throw errors.tooManyRequests('Too many requests, please try again later.', 1);
    }
    if (mutating) this.mutations++;
    else this.reads++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (mutating) this.mutations--;
      else this.reads--;
    };
  }
}

function noop(): void {}
