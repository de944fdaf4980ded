import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2';
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { resourceForKind } from '../../../kube/discovery';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import type { KubeObject } from '../../../kube/object';
import { parseQuantity } from '../../../kube/quantity';
import { core, type ResourceRef } from '../../../kube/resource-path';
import type { ControllerContext } from '../controller-context';
import { PeriodicController } from '../periodic-controller';
import { behave, DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, replicasForResource, type PodSample, type ResourceName, type ScaleEvent, type ScalingRules } from './replica-calculator';

const HPA: ResourceRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };
const POD_METRICS: ResourceRef = { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' };
/** How long recommendations and scale events are remembered: past every default window and period. */
const MEMORY_MS = 600_000;

interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

interface PodMetrics extends KubeObject {
  containers?: { name: string; usage: Record<string, string> }[];
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/**
 * The HorizontalPodAutoscaler controller, as Kubernetes' (pkg/controller/podautoscaler): every
 * sync period it reads each HPA's target through the scale subresource, the target's pods and
 * their usage from the metrics API, computes the replicas each Resource metric asks for (the
 * largest wins), applies the behavior (stabilization windows, scaling policies) and the bounds,
 * scales the target, and reports current metrics and the AbleToScale, ScalingActive and
 * ScalingLimited conditions.
 */
export class HorizontalPodAutoscalerController extends PeriodicController {
  readonly name = 'horizontal-pod-autoscaler';
  private readonly recorder: EventRecorder;
  private readonly recommendations = new Map<string, { at: number; replicas: number }[]>();
  private readonly events = new Map<string, ScaleEvent[]>();
  private readonly targets = new Map<string, Promise<ResourceRef | undefined>>();

  constructor(ctx: ControllerContext, options: { syncPeriodMs?: number } = {}) {
    super(ctx, { periodMs: options.syncPeriodMs ?? 15_000, failure: 'horizontal pod autoscaling failed' });
    this.recorder = ctx.recorder(this.name);
  }

  protected async tick(): Promise<void> {
    const { items } = await this.ctx.client.list<HorizontalPodAutoscaler>(HPA);
    const live = new Set(items.map(keyOf));
    for (const key of [...this.recommendations.keys()]) if (!live.has(key)) (this.recommendations.delete(key), this.events.delete(key));
    for (const hpa of items) {
      if (hpa.metadata?.deletionTimestamp) continue;
      await this.reconcile(hpa).catch((err: Error) => this.ctx.log('autoscaling an HPA failed', { hpa: keyOf(hpa), error: err.message }));
    }
  }

  /** One HPA: read, compute, scale, report. */
  async reconcile(hpa: HorizontalPodAutoscaler, now = Date.now()): Promise<void> {
    const key = keyOf(hpa);
    const spec = hpa.spec as NonNullable<HorizontalPodAutoscaler['spec']>;
    const namespace = hpa.metadata?.namespace as string;
    const target = await this.scaleRef(spec.scaleTargetRef.apiVersion ?? '', spec.scaleTargetRef.kind, namespace, spec.scaleTargetRef.name);
    if (!target) {
      return this.report(hpa, { conditions: [condition('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: no ${spec.scaleTargetRef.kind} in ${spec.scaleTargetRef.apiVersion ?? ''} is served`)] });
    }
    let scale: Scale;
    try {
      scale = await this.ctx.client.get<Scale>(target);
    } catch (err) {
      return this.report(hpa, { conditions: [condition('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${(err as Error).message}`)] });
    }
    const current = scale.spec?.replicas ?? 0;
    const min = spec.minReplicas ?? 1;
    if (current === 0 && min > 0) {
      return this.report(hpa, { currentReplicas: 0, desiredReplicas: 0, conditions: [condition('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale'), condition('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero')] });
    }
    const computed = await this.recommend(spec.metrics ?? [], namespace, scale.status?.selector ?? '', current);
    if ('error' in computed) {
      this.recorder.record(objectRef(hpa, 'HorizontalPodAutoscaler', 'autoscaling/v2'), 'Warning', 'FailedGetResourceMetric', computed.error);
      return this.report(hpa, { currentReplicas: current, desiredReplicas: current, conditions: [condition('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale'), condition('ScalingActive', 'False', 'FailedGetResourceMetric', computed.error)] });
    }
    const history = (this.recommendations.get(key) ?? []).filter((h) => h.at > now - MEMORY_MS);
    history.push({ at: now, replicas: computed.replicas });
    this.recommendations.set(key, history);
    const events = (this.events.get(key) ?? []).filter((e) => e.at > now - MEMORY_MS);
    const behavior = spec.behavior ?? {};
    const decided = behave({ current, recommendation: computed.replicas, history, events, up: rules(behavior.scaleUp as ScalingRules | undefined, DEFAULT_SCALE_UP), down: rules(behavior.scaleDown as ScalingRules | undefined, DEFAULT_SCALE_DOWN), min, max: spec.maxReplicas, now });
    let lastScaleTime = hpa.status?.lastScaleTime;
    if (decided.replicas !== current) {
      await this.ctx.client.patch(target, 'merge', { spec: { replicas: decided.replicas } });
      events.push({ at: now, change: decided.replicas - current });
      lastScaleTime = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const direction = decided.replicas > current ? 'above' : 'below';
      this.recorder.record(objectRef(hpa, 'HorizontalPodAutoscaler', 'autoscaling/v2'), 'Normal', 'SuccessfulRescale', `New size: ${decided.replicas}; reason: ${computed.reason} ${direction} target`);
    }
    this.events.set(key, events);
    const limited = decided.limitedBy
      ? condition('ScalingLimited', 'True', decided.limitedBy, `the desired replica count is ${decided.limitedBy === 'TooFewReplicas' ? 'less than the minimum' : decided.limitedBy === 'TooManyReplicas' ? 'more than the maximum' : 'limited by the scaling policy'}`)
      : condition('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range');
    await this.report(hpa, {
      currentReplicas: current,
      desiredReplicas: decided.replicas,
      currentMetrics: computed.current,
      ...(lastScaleTime ? { lastScaleTime } : {}),
      conditions: [
        condition('AbleToScale', 'True', decided.replicas !== current ? 'SucceededRescale' : 'ReadyForNewScale', decided.replicas !== current ? `the HPA controller was able to update the target scale to ${decided.replicas}` : 'recommended size matches current size'),
        condition('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${computed.reason}`),
        limited,
      ],
    });
  }

  /** What every Resource metric asks for; the largest count wins, as upstream. */
  private async recommend(metrics: MetricSpec[], namespace: string, selector: string, current: number): Promise<{ replicas: number; reason: string; current: MetricStatus[] } | { error: string }> {
    const resourceMetrics = metrics.filter((m) => m.type === 'Resource' && m.resource);
    if (resourceMetrics.length === 0) return { error: `no supported metric: lotse computes Resource metrics (cpu, memory) only, this HPA asks for ${metrics.map((m) => m.type).join(', ') || 'none'}` };
    const [pods, usage] = await Promise.all([
      this.ctx.client.list<Pod>(core('pods', namespace), { labelSelector: selector }),
      this.ctx.client.list<PodMetrics>({ ...POD_METRICS, namespace }, { labelSelector: selector }),
    ]);
    const running = pods.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    let best: { replicas: number; reason: string } | undefined;
    const statuses: MetricStatus[] = [];
    for (const m of resourceMetrics) {
      const name = m.resource?.name as ResourceName;
      const samples: PodSample[] = running.map((p) => {
        const figures = usage.items.find((u) => u.metadata?.name === p.metadata?.name);
        return { name: p.metadata?.name ?? '', request: podRequest(p, name), usage: figures ? figures.containers?.reduce((s, c) => s + parseQuantity(c.usage[name]), 0) : undefined };
      });
      try {
        const r = replicasForResource(name, m.resource?.target as never, current, samples);
        const reason = m.resource?.target.type === 'Utilization' ? `${name} resource utilization (percentage of request)` : `${name} resource`;
        if (!best || r.replicas > best.replicas) best = { replicas: r.replicas, reason };
        statuses.push({ type: 'Resource', resource: { name, current: { ...(r.currentUtilization !== undefined ? { averageUtilization: r.currentUtilization } : {}), averageValue: quantityText(name, r.currentAverageValue) } } });
      } catch (err) {
        return { error: (err as Error).message };
      }
    }
    return { ...(best as { replicas: number; reason: string }), current: statuses };
  }

  private scaleRef(apiVersion: string, kind: string, namespace: string, name: string): Promise<ResourceRef | undefined> {
    const typeKey = `${apiVersion}/${kind}`;
    if (!this.targets.has(typeKey)) {
      const found = resourceForKind(this.ctx.client, apiVersion, kind).catch(() => undefined);
      this.targets.set(typeKey, found);
      // A kind not served yet (a CRD still being created) is looked up again next time.
      void found.then((r) => r === undefined && this.targets.delete(typeKey));
    }
    return (this.targets.get(typeKey) as Promise<(ResourceRef & { namespaced: boolean }) | undefined>).then((r) => (r ? { group: r.group, version: r.version, resource: r.resource, namespace, name, subresource: 'scale' } : undefined));
  }

  private async report(hpa: HorizontalPodAutoscaler, status: Record<string, unknown> & { conditions: Condition[] }): Promise<void> {
    const previous = (hpa.status?.conditions ?? []) as Condition[];
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const conditions = status.conditions.map((c) => {
      const before = previous.find((p) => p.type === c.type);
      return { ...c, lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now };
    });
    const ref: ResourceRef = { ...HPA, namespace: hpa.metadata?.namespace, name: hpa.metadata?.name, subresource: 'status' };
    try {
      await this.ctx.client.patch(ref, 'merge', { status: { observedGeneration: hpa.metadata?.generation, ...status, conditions } });
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
  }
}

const keyOf = (h: HorizontalPodAutoscaler): string => `${h.metadata?.namespace}/${h.metadata?.name}`;

function rules(given: ScalingRules | undefined, defaults: Required<ScalingRules>): Required<ScalingRules> {
  return {
    stabilizationWindowSeconds: given?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    selectPolicy: given?.selectPolicy ?? defaults.selectPolicy,
    policies: given?.policies?.length ? given.policies : defaults.policies,
  };
}

/** The pod's request for the resource (sum over its containers), undefined when a container has none. */
function podRequest(pod: Pod, resource: ResourceName): number | undefined {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const r = c.resources?.requests?.[resource];
    if (r === undefined) return undefined;
    sum += parseQuantity(r);
  }
  return sum;
}

function quantityText(resource: ResourceName, value: number): string {
  return resource === 'cpu' ? `${Math.round(value * 1000)}m` : String(Math.round(value));
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string): Condition {
  return { type, status, reason, message };
}
