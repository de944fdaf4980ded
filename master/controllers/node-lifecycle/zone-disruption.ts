import type { Node } from 'kubernetes-types/core/v1';

/**
 * How much of a zone is down, as Kubernetes' node lifecycle controller grades it: Normal, a
 * PartialDisruption (at least `unhealthyZoneThreshold` of its nodes not Ready, and more than two),
 * or a FullDisruption (none Ready).
 */
export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** Rates and thresholds of eviction under disruption; the defaults are Kubernetes'. */
export interface DisruptionOptions {
  /** Nodes a second that get a NoExecute taint in a zone in Normal state (`--node-eviction-rate`, 0.1). */
  evictionRate: number;
  /** The same in a zone in PartialDisruption of more than largeClusterSizeThreshold nodes (`--secondary-node-eviction-rate`, 0.01); smaller zones stop. */
  secondaryEvictionRate: number;
  /** The share of a zone's nodes not Ready from which it is in PartialDisruption (`--unhealthy-zone-threshold`, 0.55). */
  unhealthyZoneThreshold: number;
  /** Zones up to this size stop evicting in PartialDisruption (`--large-cluster-size-threshold`, 50). */
  largeClusterSizeThreshold: number;
}

export const DISRUPTION_DEFAULTS: DisruptionOptions = { evictionRate: 0.1, secondaryEvictionRate: 0.01, unhealthyZoneThreshold: 0.55, largeClusterSizeThreshold: 50 };

const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];
const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];

/** The zone a node is in, by its region and zone labels (GA first, then the beta ones); nodes without them share the zone "". */
export function zoneOf(node: Node): string {
  const labels = node.metadata?.labels;
  if (!labels) return '';
  const region = firstLabel(labels, REGION_LABELS);
  const zone = firstLabel(labels, ZONE_LABELS);
  return region || zone ? `${region}/${zone}` : '';
}

/** Called for every node every monitor period (5,000 nodes: 10,000 times a second): no arrays made. */
function firstLabel(labels: Record<string, string>, keys: string[]): string {
  for (const k of keys) if (labels[k]) return labels[k];
  return '';
}

/** A zone's state from how many of its nodes are Ready and how many are not (no Ready condition counts as not). */
export function zoneState(ready: number, notReady: number, unhealthyZoneThreshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (ready + notReady) >= unhealthyZoneThreshold) return 'PartialDisruption';
  return 'Normal';
}

/** NoExecute taints a second for a zone of `size` nodes in `state`, as Kubernetes sets its zone's limiter. */
export function zoneEvictionRate(state: ZoneState, size: number, o: DisruptionOptions): number {
  if (state !== 'PartialDisruption') return o.evictionRate;
  return size > o.largeClusterSizeThreshold ? o.secondaryEvictionRate : 0;
}

/** A token bucket of one token: at most one take at once, then one per 1/rate seconds; rate 0 never gives one. */
class OneTokenBucket {
  private tokens = 1;
  private at: number;

  constructor(private rate: number, now: number) {
    this.at = now;
  }

  setRate(rate: number, now: number): void {
    this.refill(now);
    this.rate = rate;
  }

  take(now: number): boolean {
    this.refill(now);
    if (this.rate <= 0 || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(now: number): void {
    this.tokens = Math.min(1, this.tokens + (Math.max(0, now - this.at) / 1000) * this.rate);
    this.at = now;
  }
}

/** What one observation of every node changed. */
export interface DisruptionChange {
  /** Every zone is in FullDisruption: no node is Ready anywhere, which is far likelier the master's own connectivity than every node dying at once. */
  masterDisruption: boolean;
  /** This observation began a master disruption. */
  entered: boolean;
  /** This observation ended a master disruption: every node should get a fresh grace period. */
  recovered: boolean;
  /** Zones whose state changed, for the log. */
  zones: { zone: string; from: ZoneState | undefined; to: ZoneState; size: number; notReady: number }[];
}

/**
 * The zones of a cluster and the rate at which each may have nodes tainted NoExecute (which
 * evicts their pods): Kubernetes' protection against evicting a whole cluster's pods when the
 * nodes are fine and what failed is the master's view of them (its network, an overloaded API
 * server). A dead node in a healthy zone is tainted at once (the bucket holds one token), then
 * one node every 1/rate seconds; a zone mostly down slows to the secondary rate or stops; when
 * no zone has a Ready node, nothing is tainted and existing NoExecute taints of not-ready and
 * unreachable are taken off (the "master disruption mode").
 */
export class ZoneDisruption {
  private readonly states = new Map<string, ZoneState>();
  private readonly buckets = new Map<string, OneTokenBucket>();
  private masterDisruption = false;

  constructor(private readonly o: DisruptionOptions) {}

  get inMasterDisruption(): boolean {
    return this.masterDisruption;
  }

  /** Grades every zone from its nodes' Ready condition and sets its taint rate. */
  observe(nodes: Node[], now: number): DisruptionChange {
    const counts = new Map<string, { ready: number; notReady: number }>();
    for (const node of nodes) {
      const zone = zoneOf(node);
      const c = counts.get(zone) ?? { ready: 0, notReady: 0 };
      if (node.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True') c.ready++;
      else c.notReady++;
      counts.set(zone, c);
    }
    for (const zone of [...this.states.keys()]) {
      if (counts.has(zone)) continue;
      this.states.delete(zone);
      this.buckets.delete(zone);
    }
    const next = new Map([...counts].map(([zone, c]) => [zone, zoneState(c.ready, c.notReady, this.o.unhealthyZoneThreshold)] as const));
    const allFull = next.size > 0 && [...next.values()].every((s) => s === 'FullDisruption');
    const wasMasterDisruption = this.masterDisruption;
    this.masterDisruption = allFull;
    const zones: DisruptionChange['zones'] = [];
    for (const [zone, state] of next) {
      const c = counts.get(zone) as { ready: number; notReady: number };
      const from = this.states.get(zone);
      if (from !== state) zones.push({ zone, from, to: state, size: c.ready + c.notReady, notReady: c.notReady });
      this.states.set(zone, state);
      const rate = allFull ? 0 : zoneEvictionRate(state, c.ready + c.notReady, this.o);
      const bucket = this.buckets.get(zone);
      if (bucket) bucket.setRate(rate, now);
      else this.buckets.set(zone, new OneTokenBucket(rate, now));
    }
    return { masterDisruption: allFull, entered: allFull && !wasMasterDisruption, recovered: wasMasterDisruption && !allFull, zones };
  }

  /** Whether a node of `zone` may get its NoExecute taint now (takes the zone's token if so). */
  admit(zone: string, now: number): boolean {
    if (this.masterDisruption) return false;
    return this.buckets.get(zone)?.take(now) ?? false;
  }
}
