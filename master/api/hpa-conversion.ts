/**
 * autoscaling/v1 HorizontalPodAutoscalers, stored as autoscaling/v2 (the storage version, as in
 * Kubernetes). v1 knows one target, CPU utilization; what v2 says beyond it (other metrics,
 * behavior, conditions, current metrics) travels in the annotations Kubernetes uses for the same
 * round trip, so a v1 client that reads, edits and writes an object keeps what it cannot see.
 */
type Json = Record<string, unknown>;

const METRICS = 'autoscaling.alpha.kubernetes.io/metrics';
const BEHAVIOR = 'autoscaling.alpha.kubernetes.io/behavior';
const CONDITIONS = 'autoscaling.alpha.kubernetes.io/conditions';
const CURRENT = 'autoscaling.alpha.kubernetes.io/current-metrics';
const ROUND_TRIP = [METRICS, BEHAVIOR, CONDITIONS, CURRENT];

interface MetricSpec {
  type?: string;
  resource?: { name?: string; target?: { type?: string; averageUtilization?: number } };
}

interface MetricStatus {
  type?: string;
  resource?: { name?: string; current?: { averageUtilization?: number } };
}

const isCpuUtilization = (m: MetricSpec): boolean => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.type === 'Utilization';

function parsed<T>(annotations: Record<string, string>, key: string): T | undefined {
  if (annotations[key] === undefined) return undefined;
  try {
    return JSON.parse(annotations[key]) as T;
  } catch {
    return undefined;
  }
}

/** A v1 object, as a v1 client wrote it, in the v2 form the store keeps. */
export function hpaV1ToV2(v1: Json): Json {
  const meta = { ...((v1.metadata as Json | undefined) ?? {}) };
  const annotations = { ...((meta.annotations as Record<string, string> | undefined) ?? {}) };
  const spec = (v1.spec as Json | undefined) ?? {};
  const status = (v1.status as Json | undefined) ?? {};
  const others = parsed<MetricSpec[]>(annotations, METRICS) ?? [];
  const cpu = typeof spec.targetCPUUtilizationPercentage === 'number' ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }] : [];
  const behavior = parsed<Json>(annotations, BEHAVIOR);
  const conditions = parsed<unknown[]>(annotations, CONDITIONS);
  const currentOthers = parsed<MetricStatus[]>(annotations, CURRENT) ?? [];
  const currentCpu = typeof status.currentCPUUtilizationPercentage === 'number' ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }] : [];
  for (const k of ROUND_TRIP) delete annotations[k];
  const { targetCPUUtilizationPercentage: _t, ...restSpec } = spec;
  const { currentCPUUtilizationPercentage: _c, ...restStatus } = status;
  const metrics = [...cpu, ...others.filter((m) => !isCpuUtilization(m))];
  const current = [...currentCpu, ...currentOthers];
  return {
    ...v1,
    apiVersion: 'autoscaling/v2',
    metadata: { ...meta, annotations: Object.keys(annotations).length ? annotations : undefined },
    spec: { ...restSpec, ...(metrics.length ? { metrics } : {}), ...(behavior ? { behavior } : {}) },
    ...(v1.status !== undefined ? { status: { ...restStatus, ...(current.length ? { currentMetrics: current } : {}), ...(conditions ? { conditions } : {}) } } : {}),
  };
}

/** The stored v2 object as a v1 client sees it. */
export function hpaV2ToV1(v2: Json): Json {
  const meta = { ...((v2.metadata as Json | undefined) ?? {}) };
  const annotations = { ...((meta.annotations as Record<string, string> | undefined) ?? {}) };
  const spec = (v2.spec as Json | undefined) ?? {};
  const status = v2.status as Json | undefined;
  const metrics = (spec.metrics as MetricSpec[] | undefined) ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length) annotations[METRICS] = JSON.stringify(others);
  if (spec.behavior) annotations[BEHAVIOR] = JSON.stringify(spec.behavior);
  const current = (status?.currentMetrics as MetricStatus[] | undefined) ?? [];
  const currentCpu = current.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current?.averageUtilization !== undefined);
  const currentOthers = current.filter((m) => m !== currentCpu);
  if (currentOthers.length) annotations[CURRENT] = JSON.stringify(currentOthers);
  if (Array.isArray(status?.conditions) && status.conditions.length) annotations[CONDITIONS] = JSON.stringify(status.conditions);
  const { metrics: _m, behavior: _b, ...restSpec } = spec;
  const out: Json = {
    ...v2,
    apiVersion: 'autoscaling/v1',
    metadata: { ...meta, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: { ...restSpec, ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource?.target?.averageUtilization } : {}) },
  };
  if (status) {
    const { currentMetrics: _cm, conditions: _cs, ...restStatus } = status;
    out.status = { ...restStatus, ...(currentCpu ? { currentCPUUtilizationPercentage: currentCpu.resource?.current?.averageUtilization } : {}) };
  }
  return out;
}
