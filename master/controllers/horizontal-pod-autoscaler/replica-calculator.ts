import { parseQuantity } from '../../../kube/quantity';

/** Kubernetes' --horizontal-pod-autoscaler-tolerance: within 10% of the target nothing changes. */
export const TOLERANCE = 0.1;

export type ResourceName = 'cpu' | 'memory';

export interface ResourceTarget {
  type: 'Utilization' | 'AverageValue';
  averageUtilization?: number;
  averageValue?: string;
}

/** One pod as the calculation needs it: its requests, and its usage when the metrics API had it. */
export interface PodSample {
  name: string;
  /** Sum over the pod's containers, in base units (cores, bytes); undefined when a container requests nothing. */
  request?: number;
  usage?: number;
}

export interface Recommendation {
  replicas: number;
  /** For status.currentMetrics: the average utilization in percent of request, or the average value. */
  currentUtilization?: number;
  currentAverageValue: number;
}

/**
 * The replica count a Resource metric asks for, as Kubernetes' replica calculator computes it:
 * the pods' usage against the target, ignoring pods without figures; no change within the
 * tolerance. Throws with the reason Kubernetes reports (FailedGetResourceMetric) when nothing can
 * be computed.
 */
export function replicasForResource(resource: ResourceName, target: ResourceTarget, current: number, pods: PodSample[]): Recommendation {
  const measured = pods.filter((p) => p.usage !== undefined);
  if (measured.length === 0) throw new Error(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  const usage = measured.reduce((sum, p) => sum + (p.usage as number), 0);
  const averageValue = usage / measured.length;
  if (target.type === 'AverageValue') {
    const wanted = parseQuantity(target.averageValue);
    if (!(wanted > 0)) throw new Error(`invalid target averageValue ${String(target.averageValue)} for resource ${resource}`);
    const ratio = averageValue / wanted;
    return { replicas: withinTolerance(ratio) ? current : Math.ceil(usage / wanted), currentAverageValue: averageValue };
  }
  const missing = measured.find((p) => !(p.request && p.request > 0));
  if (missing) throw new Error(`failed to get ${resource} utilization: missing request for ${resource} in container(s) of pod ${missing.name}`);
  const requests = measured.reduce((sum, p) => sum + (p.request as number), 0);
  const utilization = Math.round((usage / requests) * 100);
  const ratio = utilization / (target.averageUtilization ?? 80);
  return {
    replicas: withinTolerance(ratio) ? current : Math.ceil(ratio * measured.length),
    currentUtilization: utilization,
    currentAverageValue: averageValue,
  };
}

const withinTolerance = (ratio: number): boolean => Math.abs(1 - ratio) <= TOLERANCE;

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
}

/** autoscaling/v2's defaults when spec.behavior leaves a direction out. */
export const DEFAULT_SCALE_UP: Required<ScalingRules> = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
export const DEFAULT_SCALE_DOWN: Required<ScalingRules> = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

export interface ScaleEvent {
  at: number;
  /** Replicas added (positive) or removed (negative). */
  change: number;
}

/**
 * The count to scale to from the raw recommendation, as the HPA's behavior says: stabilized over
 * the window (scale-down takes the highest recommendation of its window, scale-up the lowest), then
 * limited by the policies over the changes already made in each policy's period, then to
 * minReplicas..maxReplicas.
 */
export function behave(o: {
  current: number;
  recommendation: number;
  history: { at: number; replicas: number }[];
  events: ScaleEvent[];
  up: Required<ScalingRules>;
  down: Required<ScalingRules>;
  min: number;
  max: number;
  now: number;
}): { replicas: number; limitedBy?: string } {
  let wanted = o.recommendation;
  const within = (seconds: number) => o.history.filter((h) => h.at >= o.now - seconds * 1000).map((h) => h.replicas);
  if (wanted < o.current) wanted = Math.min(o.current, Math.max(wanted, ...within(o.down.stabilizationWindowSeconds)));
  if (wanted > o.current) wanted = Math.max(o.current, Math.min(wanted, ...within(o.up.stabilizationWindowSeconds)));
  let limitedBy: string | undefined;
  if (wanted > o.current) {
    const limit = policyLimit(o.current, o.events, o.up, o.now, 1);
    if (wanted > limit) [wanted, limitedBy] = [limit, 'ScaleUpLimit'];
  } else if (wanted < o.current) {
    const limit = policyLimit(o.current, o.events, o.down, o.now, -1);
    if (wanted < limit) [wanted, limitedBy] = [limit, 'ScaleDownLimit'];
  }
  if (wanted > o.max) [wanted, limitedBy] = [o.max, 'TooManyReplicas'];
  if (wanted < o.min) [wanted, limitedBy] = [o.min, 'TooFewReplicas'];
  return { replicas: wanted, limitedBy };
}

/** The furthest the policies let the count go in `direction` (1 up, -1 down) given the changes made in each period. */
function policyLimit(current: number, events: ScaleEvent[], rules: Required<ScalingRules>, now: number, direction: 1 | -1): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const limits = rules.policies.map((p) => {
    const made = events.filter((e) => e.at >= now - p.periodSeconds * 1000 && Math.sign(e.change) === direction).reduce((s, e) => s + Math.abs(e.change), 0);
    const start = current - direction * made; // the count at the start of the period
    const step = p.type === 'Pods' ? p.value : direction > 0 ? Math.ceil((start * p.value) / 100) : Math.floor((start * p.value) / 100);
    return start + direction * step;
  });
  const pickMost = rules.selectPolicy !== 'Min';
  return direction > 0 ? (pickMost ? Math.max(...limits) : Math.min(...limits)) : pickMost ? Math.min(...limits) : Math.max(...limits);
}
