import type { Lease } from 'kubernetes-types/coordination/v1';
import type { Node, NodeCondition, Pod, Taint, Toleration } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { objectKey } from '../../../kube/object';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { toleratesTaint } from '../../scheduler/taints';
import type { ControllerContext } from '../controller-context';
import { PeriodicController } from '../periodic-controller';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import type { InformerLike } from '../../../kube/shared-informers';
import { deleteObject } from '../delete-object';

/**
 * Timing of node failure handling. lotse reacts faster than Kubernetes by default, so a dead
 * node's pods run elsewhere within about 30 s (15 s + 10 s + a monitor period + scheduling):
 *
 * | setting            | lotse | Kubernetes                                            |
 * | ------------------ | ----- | ----------------------------------------------------- |
 * | gracePeriodMs      | 15 s  | 40 s (--node-monitor-grace-period; 50 s since 1.32)   |
 * | evictionTimeoutMs  | 10 s  | 300 s (DefaultTolerationSeconds admission plugin)    |
 * | monitorPeriodMs    | 0.5 s | 5 s (--node-monitor-period)                          |
 */
export interface NodeMonitorOptions {
  /** A node whose Lease and status stay unrenewed this long turns Ready=Unknown and gets the unreachable taint. */
  gracePeriodMs?: number;
  /** How long pods without their own toleration stay on a not-ready or unreachable node before eviction. */
  evictionTimeoutMs?: number;
  monitorPeriodMs?: number;
  /** A pod bound to a node that no longer exists is force-deleted after this long (default 5 s). */
  orphanPodGraceMs?: number;
}

export const NODE_MONITOR_DEFAULTS: Required<NodeMonitorOptions> = { gracePeriodMs: 15_000, evictionTimeoutMs: 10_000, monitorPeriodMs: 500, orphanPodGraceMs: 5_000 };

export const UNREACHABLE = 'node.kubernetes.io/unreachable';
export const NOT_READY = 'node.kubernetes.io/not-ready';

const leasesRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

/** The taints a node should carry for its Ready status, NoSchedule and NoExecute alike. */
export function conditionTaints(ready: string | undefined, now: string): Taint[] {
  const key = ready === 'False' ? NOT_READY : ready === 'True' ? undefined : UNREACHABLE;
  if (!key) return [];
  return [
    { key, effect: 'NoSchedule' },
    { key, effect: 'NoExecute', timeAdded: now },
  ];
}

/**
 * When (ms since epoch) a pod on a node with these NoExecute taints must be evicted, or
 * undefined if it tolerates them forever. Pods without a toleration for not-ready/unreachable
 * get `defaultTolerationMs`, as Kubernetes' DefaultTolerationSeconds admission would give them.
 */
export function evictionTime(taints: Taint[], tolerations: Toleration[] | undefined, defaultTolerationMs: number, firstSeen: (t: Taint) => number): number | undefined {
  let when: number | undefined;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : firstSeen(taint);
    const matching = (tolerations ?? []).filter((t) => toleratesTaint(t, taint));
    let after: number | undefined;
    if (matching.length === 0) after = taint.key === NOT_READY || taint.key === UNREACHABLE ? defaultTolerationMs : 0;
    else if (matching.every((t) => t.tolerationSeconds !== undefined && t.tolerationSeconds !== null)) {
      after = Math.max(0, Math.min(...matching.map((t) => Number(t.tolerationSeconds)))) * 1000;
    }
    if (after === undefined) continue;
    when = Math.min(when ?? Infinity, added + after);
  }
  return when;
}

interface Health {
  /** Local time when this controller last saw the node's lease or status heartbeat move. */
  probeTime: number;
  renewTime?: string;
  heartbeat?: string;
}

/**
 * Watches node heartbeats (Lease renewals and status updates). A silent node turns Ready=Unknown
 * and is tainted unreachable; pods on NoExecute-tainted nodes are evicted after their toleration,
 * so their controllers recreate them on healthy nodes. Time is measured locally, never from the
 * node's clock.
 */
export class NodeLifecycleController extends PeriodicController {
  readonly name = 'node-lifecycle-controller';
  private readonly opts: Required<NodeMonitorOptions>;
  private readonly nodes: InformerLike<Node>;
  private readonly pods: InformerLike<Pod>;
  private readonly health = new Map<string, Health>();
  private readonly podsOnNode = new Map<string, Set<string>>();
  private readonly taintSeen = new Map<string, number>();
  private readonly orphanSince = new Map<string, number>();
  private readonly evicting = new Set<string>();
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext, options: NodeMonitorOptions = {}) {
    super(ctx, { periodMs: options.monitorPeriodMs ?? NODE_MONITOR_DEFAULTS.monitorPeriodMs, failure: 'node monitor failed' });
    this.opts = { ...NODE_MONITOR_DEFAULTS, ...options };
    this.nodes = ctx.informers.get<Node>(core('nodes'));
    this.pods = ctx.informers.get<Pod>(core('pods'));
    this.recorder = ctx.recorder(this.name);
    ctx.informers.get<Lease>(leasesRef).on((type, lease) => {
      if (type !== 'DELETED') this.heard(lease.metadata?.name ?? '', { renewTime: lease.spec?.renewTime ?? undefined });
    });
    this.nodes.on((type, node) => {
      const name = node.metadata?.name ?? '';
      if (type === 'DELETED') this.health.delete(name);
      else this.heard(name, { heartbeat: readyCondition(node)?.lastHeartbeatTime ?? undefined });
    });
    this.pods.on((type, pod, old) => this.indexPod(type, pod, old));
  }

  override start(): void {
    const now = Date.now();
    // Every node gets a full grace period from the moment this controller takes over.
    for (const h of this.health.values()) h.probeTime = now;
    super.start();
  }

  private heard(node: string, beat: { renewTime?: string; heartbeat?: string }): void {
    const h = this.health.get(node);
    if (!h) {
      this.health.set(node, { probeTime: Date.now(), ...beat });
      return;
    }
    if (beat.renewTime !== undefined && beat.renewTime !== h.renewTime) {
      h.renewTime = beat.renewTime;
      h.probeTime = Date.now();
    }
    if (beat.heartbeat !== undefined && beat.heartbeat !== h.heartbeat) {
      h.heartbeat = beat.heartbeat;
      h.probeTime = Date.now();
    }
  }

  private indexPod(type: string, pod: Pod, old?: Pod): void {
    const key = objectKey(pod);
    const before = old?.spec?.nodeName;
    if (before) this.podsOnNode.get(before)?.delete(key);
    if (type === 'DELETED') {
      this.evicting.delete(key);
      this.orphanSince.delete(key);
      return;
    }
    const node = pod.spec?.nodeName;
    if (!node) return;
    let set = this.podsOnNode.get(node);
    if (!set) this.podsOnNode.set(node, (set = new Set()));
    set.add(key);
  }

  protected async tick(): Promise<void> {
    const now = Date.now();
    for (const node of this.nodes.list()) {
      const current = await this.checkHealth(node, now);
      const taints = await this.reconcileTaints(current, now);
      await this.evictPods(current, taints, now);
    }
    await this.collectOrphans(now);
  }

  /** Marks a silent node Ready=Unknown; returns the node as it should now be seen. */
  private async checkHealth(node: Node, now: number): Promise<Node> {
    const name = node.metadata?.name ?? '';
    const h = this.health.get(name);
    if (!h || now - h.probeTime <= this.opts.gracePeriodMs) return node;
    const ready = readyCondition(node);
    if (ready?.status === 'Unknown') return node;
    const nowIso = new Date(now).toISOString();
    const types = new Set(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', ...(node.status?.conditions ?? []).map((c) => c.type)]);
    const conditions: NodeCondition[] = [...types].map((type) => {
      const prev = node.status?.conditions?.find((c) => c.type === type);
      return {
        type,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastHeartbeatTime: prev?.lastHeartbeatTime,
        lastTransitionTime: prev?.status === 'Unknown' ? prev.lastTransitionTime : nowIso,
      };
    });
    this.ctx.log('node stopped reporting; marking it Unknown', { node: name, silentForMs: now - h.probeTime });
    this.recorder.record(objectRef(node, 'Node'), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    const updated = await this.ctx.client.patch<Node>(core('nodes', undefined, name, 'status'), 'merge', { status: { conditions } });
    await this.markPodsNotReady(name);
    return updated;
  }

  /** Pods on an unreachable node cannot be trusted to serve: drop them from Services at once. */
  private async markPodsNotReady(node: string): Promise<void> {
    for (const key of this.podsOnNode.get(node) ?? []) {
      const pod = this.pods.get(key);
      const conds = pod?.status?.conditions ?? [];
      const ready = conds.find((c) => c.type === 'Ready');
      if (!pod || !ready || ready.status === 'False') continue;
      const conditions = conds.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', reason: 'NodeNotReady', lastTransitionTime: new Date().toISOString() } : c));
      await this.ctx.client
        .patch(core('pods', pod.metadata?.namespace, pod.metadata?.name, 'status'), 'merge', { status: { conditions } })
        .catch((err: Error) => this.ctx.log('could not mark pod not ready', { pod: key, error: err.message }));
    }
  }

  private async reconcileTaints(node: Node, now: number): Promise<Taint[]> {
    const existing = node.spec?.taints ?? [];
    // Every node every tick: a Ready node without taints, the usual one, allocates nothing.
    if (existing.length === 0 && readyCondition(node)?.status === 'True') return existing;
    const ours = (t: Taint): boolean => t.key === NOT_READY || t.key === UNREACHABLE;
    const wanted = conditionTaints(readyCondition(node)?.status, new Date(now).toISOString());
    const keep = existing.filter((t) => !ours(t) || wanted.some((w) => w.key === t.key && w.effect === t.effect));
    const add = wanted.filter((w) => !existing.some((t) => t.key === w.key && t.effect === w.effect));
    if (add.length === 0 && keep.length === existing.length) return existing;
    const taints = [...keep, ...add];
    try {
      await this.ctx.client.patch(core('nodes', undefined, node.metadata?.name), 'merge', {
        metadata: { resourceVersion: node.metadata?.resourceVersion },
        spec: { taints: taints.length ? taints : null },
      });
    } catch (err) {
      // Someone else changed the node: the next tick sees the new version.
      if (ApiError.isConflict(err) || ApiError.isNotFound(err)) return existing;
      throw err;
    }
    return taints;
  }

  private async evictPods(node: Node, taints: Taint[], now: number): Promise<void> {
    if (!taints.some((t) => t.effect === 'NoExecute')) return;
    const name = node.metadata?.name ?? '';
    const firstSeen = (t: Taint): number => {
      const k = `${name}/${t.key}/${t.value ?? ''}`;
      if (!this.taintSeen.has(k)) this.taintSeen.set(k, now);
      return this.taintSeen.get(k) as number;
    };
    for (const key of [...(this.podsOnNode.get(name) ?? [])]) {
      const pod = this.pods.get(key);
      if (!pod || pod.metadata?.deletionTimestamp || this.evicting.has(key)) continue;
      const when = evictionTime(taints, pod.spec?.tolerations, this.opts.evictionTimeoutMs, firstSeen);
      if (when === undefined || when > now) continue;
      this.evicting.add(key);
      this.recorder.record(objectRef(pod, 'Pod'), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
      try {
        await deleteObject(this.ctx.client, core('pods', pod.metadata?.namespace, pod.metadata?.name));
      } catch (err) {
        this.evicting.delete(key);
        if (!ApiError.isNotFound(err)) this.ctx.log('eviction failed', { pod: key, error: (err as Error).message });
      }
    }
  }

  /** Pods bound to a node that is gone can never be stopped by an agent: remove them outright. */
  private async collectOrphans(now: number): Promise<void> {
    for (const [node, keys] of this.podsOnNode) {
      if (this.nodes.get(node)) continue;
      for (const key of keys) {
        const since = this.orphanSince.get(key) ?? now;
        this.orphanSince.set(key, since);
        if (now - since < this.opts.orphanPodGraceMs) continue;
        const pod = this.pods.get(key);
        if (!pod) continue;
        await deleteObject(this.ctx.client, core('pods', pod.metadata?.namespace, pod.metadata?.name), { gracePeriodSeconds: 0 }).catch((err: Error) => ApiError.isNotFound(err) || this.ctx.log('could not remove orphaned pod', { pod: key, error: err.message }));
      }
    }
  }
}

function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}
