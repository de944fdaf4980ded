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
import { DISRUPTION_DEFAULTS, ZoneDisruption, zoneOf, type DisruptionOptions } from './zone-disruption';

/**
 * Timing of node failure handling. lotse reacts faster than Kubernetes by default, so a dead
 * node's pods run elsewhere within about 30 s (15 s + 12 s + a monitor period + scheduling):
 *
 * | setting            | lotse | Kubernetes                                            |
 * | ------------------ | ----- | ----------------------------------------------------- |
 * | gracePeriodMs      | 15 s  | 40 s (--node-monitor-grace-period; 50 s since 1.32)   |
 * | evictionTimeoutMs  | 12 s  | 300 s (DefaultTolerationSeconds admission plugin)    |
 * | monitorPeriodMs    | 0.5 s | 5 s (--node-monitor-period)                          |
 *
 * The eviction timeout is longer than the agent's lease interval (10 s) and a monitor period:
 * when the master loses every node at once, the nodes fall silent over one lease interval, and
 * all of them must be seen silent (master disruption, zone-disruption.ts) before the first
 * one's pods would be evicted.
 */
export interface NodeMonitorOptions {
  /** A node whose Lease and status stay unrenewed this long turns Ready=Unknown and gets the unreachable taint. */
  gracePeriodMs?: number;
  /** How long pods without their own toleration stay on a not-ready or unreachable node before eviction. */
  evictionTimeoutMs?: number;
  monitorPeriodMs?: number;
  /** A pod bound to a node that no longer exists is force-deleted after this long (default 5 s). */
  orphanPodGraceMs?: number;
  /** How fast nodes are tainted NoExecute in a zone under disruption (zone-disruption.ts; Kubernetes' defaults). */
  disruption?: Partial<DisruptionOptions>;
}

type MonitorSettings = Required<Omit<NodeMonitorOptions, 'disruption'>> & { disruption: DisruptionOptions };

export const NODE_MONITOR_DEFAULTS: MonitorSettings = { gracePeriodMs: 15_000, evictionTimeoutMs: 12_000, monitorPeriodMs: 500, orphanPodGraceMs: 5_000, disruption: DISRUPTION_DEFAULTS };

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
  private readonly opts: MonitorSettings;
  private readonly nodes: InformerLike<Node>;
  private readonly pods: InformerLike<Pod>;
  private readonly health = new Map<string, Health>();
  private readonly podsOnNode = new Map<string, Set<string>>();
  /** Per node, when this controller first saw each of its NoExecute taints (by key and value); forgotten when the node has none. */
  private readonly taintSeen = new Map<string, Map<string, number>>();
  private readonly zones: ZoneDisruption;
  private readonly orphanSince = new Map<string, number>();
  private readonly evicting = new Set<string>();
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext, options: NodeMonitorOptions = {}) {
    super(ctx, { periodMs: options.monitorPeriodMs ?? NODE_MONITOR_DEFAULTS.monitorPeriodMs, failure: 'node monitor failed' });
    this.opts = { ...NODE_MONITOR_DEFAULTS, ...options, disruption: { ...DISRUPTION_DEFAULTS, ...options.disruption } };
    this.zones = new ZoneDisruption(this.opts.disruption);
    this.nodes = ctx.informers.get<Node>(core('nodes'));
    this.pods = ctx.informers.get<Pod>(core('pods'));
    this.recorder = ctx.recorder(this.name);
    ctx.informers.get<Lease>(leasesRef).on((type, lease) => {
      if (type !== 'DELETED') this.heard(lease.metadata?.name ?? '', { renewTime: lease.spec?.renewTime ?? undefined });
    });
    this.nodes.on((type, node) => {
      const name = node.metadata?.name ?? '';
      if (type !== 'DELETED') return this.heard(name, { heartbeat: readyCondition(node)?.lastHeartbeatTime ?? undefined });
      this.health.delete(name);
      this.taintSeen.delete(name);
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
    const nodes: Node[] = [];
    for (const node of this.nodes.list()) nodes.push(await this.checkHealth(node, now));
    this.observeZones(nodes, now);
    const admitted = this.admitNoExecute(nodes, now);
    for (const node of nodes) {
      const taints = await this.reconcileTaints(node, now, admitted);
      await this.evictPods(node, taints, now);
    }
    await this.collectOrphans(now);
  }

  private observeZones(nodes: Node[], now: number): void {
    const change = this.zones.observe(nodes, now);
    for (const z of change.zones) {
      if (z.from !== undefined || z.to !== 'Normal') this.ctx.log('zone changed state', { zone: z.zone || '(no zone labels)', from: z.from ?? 'new', to: z.to, nodes: z.size, notReady: z.notReady });
    }
    if (change.entered) {
      this.ctx.log('no node is Ready in any zone: taking NoExecute taints off and evicting nothing until one is (master disruption mode)', { nodes: nodes.length });
    }
    if (change.recovered) {
      this.ctx.log('a node is Ready again: leaving master disruption mode; every node gets a full grace period', { nodes: nodes.length });
      // Heartbeats that queued while the master could not hear its nodes arrive now: none of them is late.
      for (const h of this.health.values()) h.probeTime = now;
    }
  }

  /**
   * The nodes that may get a NoExecute taint of not-ready or unreachable in this tick: those that
   * need one, longest silent first, as far as their zone's rate allows (zone-disruption.ts).
   */
  private admitNoExecute(nodes: Node[], now: number): Set<string> {
    const waiting = nodes.filter((node) => {
      const wanted = conditionTaints(readyCondition(node)?.status, '').find((t) => t.effect === 'NoExecute');
      return wanted !== undefined && !(node.spec?.taints ?? []).some((t) => t.key === wanted.key && t.effect === 'NoExecute');
    });
    const since = (node: Node): number => this.health.get(node.metadata?.name ?? '')?.probeTime ?? now;
    waiting.sort((a, b) => since(a) - since(b));
    const admitted = new Set<string>();
    for (const node of waiting) if (this.zones.admit(zoneOf(node), now)) admitted.add(node.metadata?.name ?? '');
    return admitted;
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

  /**
   * Puts on and takes off the not-ready and unreachable taints the node's Ready condition calls
   * for. A NoExecute one is put on only when `admitted` (its zone's rate), and in master
   * disruption mode it is taken off.
   */
  private async reconcileTaints(node: Node, now: number, admitted: Set<string>): Promise<Taint[]> {
    const existing = node.spec?.taints ?? [];
    // Every node every tick: a Ready node without taints, the usual one, allocates nothing.
    if (existing.length === 0 && readyCondition(node)?.status === 'True') return existing;
    const ours = (t: Taint): boolean => t.key === NOT_READY || t.key === UNREACHABLE;
    const has = (w: Taint): boolean => existing.some((t) => t.key === w.key && t.effect === w.effect);
    const noExecuteAllowed = (w: Taint): boolean => !this.zones.inMasterDisruption && (has(w) || admitted.has(node.metadata?.name ?? ''));
    const wanted = conditionTaints(readyCondition(node)?.status, new Date(now).toISOString()).filter((w) => w.effect !== 'NoExecute' || noExecuteAllowed(w));
    const keep = existing.filter((t) => !ours(t) || wanted.some((w) => w.key === t.key && w.effect === t.effect));
    const add = wanted.filter((w) => !has(w));
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
    const name = node.metadata?.name ?? '';
    if (!taints.some((t) => t.effect === 'NoExecute')) {
      // A taint that comes back later (the node fails again) starts its pods' tolerations afresh.
      this.taintSeen.delete(name);
      return;
    }
    const seen = this.taintSeen.get(name) ?? new Map<string, number>();
    this.taintSeen.set(name, seen);
    for (const k of seen.keys()) if (!taints.some((t) => t.effect === 'NoExecute' && seenKey(t) === k)) seen.delete(k);
    const firstSeen = (t: Taint): number => {
      const k = seenKey(t);
      if (!seen.has(k)) seen.set(k, now);
      return seen.get(k) as number;
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

/** A NoExecute taint's identity in taintSeen: its key and value. */
function seenKey(t: Taint): string {
  return `${t.key}/${t.value ?? ''}`;
}

function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}
