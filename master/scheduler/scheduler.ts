import type { Binding, Node, NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../../kube/client';
import { ApiError } from '../../kube/api-error';
import type { InformerLike } from '../../kube/shared-informers';
import { objectKey } from '../../kube/object';
import { core } from '../../kube/resource-path';
import { objectRef, type EventRecorder } from '../../kube/event-recorder';
import { mayPreempt, planPreemption, type PreemptionPlan } from './preemption';
import { failureMessage } from './failure-message';
import { runFilters, type PodFacts } from './filters';
import { controllerUid, type NodeInfo } from './node-info';
import { podHostPorts, podRequests, podScoreRequests } from './pod-requests';
import { SchedulerCache } from './scheduler-cache';
import { SchedulingQueue } from './scheduling-queue';
import { scoreNodes } from './scores';

export interface SchedulerOptions {
  client: KubeClient;
  /** Shared informers over all pods and all nodes; the scheduler registers its handlers before they start. */
  pods: InformerLike<Pod>;
  nodes: InformerLike<Node>;
  /** Claims and volumes, so pods of a claim bound to a local volume go to its node. */
  claims?: InformerLike<PersistentVolumeClaim>;
  volumes?: InformerLike<PersistentVolume>;
  recorder?: EventRecorder;
  /** Pods naming another scheduler are left alone (default "default-scheduler"). */
  schedulerName?: string;
  /** Binding requests in flight at once (default 64). */
  maxBindsInFlight?: number;
  /** Share of nodes to find feasible before scoring; default adaptive as upstream (50% − nodes/125, at least 5% and 100 nodes). */
  percentageOfNodesToScore?: number;
  /** Safety net: parked pods are retried after this long even without a cluster change (default 5 min, as upstream). */
  unschedulableFlushMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface SchedulerStats {
  scheduled: number;
  bound: number;
  failed: number;
  bindErrors: number;
}

const BATCH = 32;

/**
 * Places pending pods on nodes: filter every candidate, score the feasible ones, assume the pod
 * onto the winner and bind it asynchronously. Scheduling itself is synchronous and in-memory;
 * only bindings and events touch the API, many at a time.
 */
export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue = new SchedulingQueue();
  readonly stats: SchedulerStats = { scheduled: 0, bound: 0, failed: 0, bindErrors: 0 };
  private readonly schedulerName: string;
  private readonly lastFailure = new Map<string, string>();
  private bindsInFlight = 0;
  private bindSlot: (() => void) | undefined;
  private nextStart = 0;
  private stopped = false;
  private loopDone: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private allBound: (() => void)[] = [];

  constructor(private readonly options: SchedulerOptions) {
    this.schedulerName = options.schedulerName ?? 'default-scheduler';
    options.nodes.on((type, node, old) => this.onNode(type, node, old));
    options.pods.on((type, pod, old) => this.onPod(type, pod, old));
  }

  /** Starts the scheduling loop; call once the informers have synced. */
  start(): void {
    this.loopDone = this.loop();
    const flushMs = this.options.unschedulableFlushMs ?? 300_000;
    this.flushTimer = setInterval(() => this.queue.moveAllToActive(), flushMs);
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.queue.wake();
    this.bindSlot?.();
    await this.loopDone;
  }

  /** Resolves when no pod waits in the active queue and no binding is in flight (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.bindsInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.allBound.push(resolve));
  }

  private onNode(type: string, node: Node, old?: Node): void {
    const name = node.metadata?.name ?? '';
    if (type === 'DELETED') {
      this.cache.removeNode(name);
      return;
    }
    this.cache.setNode(node);
    // Heartbeats change the node every few seconds; only changes that can make a pod fit wake parked pods.
    if (!old || schedulingRelevant(old) !== schedulingRelevant(node)) this.queue.moveAllToActive();
  }

  private onPod(type: string, pod: Pod, old?: Pod): void {
    const key = objectKey(pod);
    if (type === 'DELETED') {
      const wasPlaced = this.cache.nodeOf(key) !== undefined;
      this.cache.removePod(key);
      this.queue.remove(key);
      this.lastFailure.delete(key);
      if (wasPlaced) this.queue.moveAllToActive();
      return;
    }
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (pod.spec?.nodeName || terminal) {
      const freed = terminal && old !== undefined && old.status?.phase !== pod.status?.phase && this.cache.nodeOf(key) !== undefined;
      this.cache.updatePod(pod);
      this.queue.remove(key);
      this.lastFailure.delete(key);
      if (freed) this.queue.moveAllToActive();
      return;
    }
    if (!this.isOurs(pod) || this.cache.isAssumed(key)) return;
    // Status-only updates (including our own PodScheduled condition) must not retry a parked pod.
    if (old && this.queue.has(key) && !specChanged(old, pod)) return;
    this.queue.add(pod);
  }

  private isOurs(pod: Pod): boolean {
    if (pod.metadata?.deletionTimestamp) return false;
    return (pod.spec?.schedulerName ?? 'default-scheduler') === this.schedulerName;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.queue.length === 0) this.notifyIdle();
      await this.queue.wait();
      if (this.stopped) break;
      const max = this.options.maxBindsInFlight ?? 64;
      while (this.bindsInFlight >= max && !this.stopped) await new Promise<void>((r) => (this.bindSlot = r));
      const { pods, cycle } = this.queue.popBatch(Math.min(BATCH, max - this.bindsInFlight));
      for (const pod of pods) this.scheduleOne(pod, cycle);
      // Let watch events and binding answers in between batches.
      await new Promise((r) => setImmediate(r));
    }
  }

  private scheduleOne(queued: Pod, cycle: number): void {
    const key = objectKey(queued);
    const pod = this.options.pods.get(key) ?? queued;
    if (!this.options.pods.get(key) || pod.spec?.nodeName || !this.isOurs(pod)) {
      this.queue.done(key);
      return;
    }
    const facts: PodFacts = {
      pod,
      requests: podRequests(pod),
      scoreRequests: podScoreRequests(pod),
      hostPorts: podHostPorts(pod),
      owner: controllerUid(pod),
      volumeAffinities: this.volumeAffinities(pod),
    };
    const result = this.findFeasible(facts);
    if (result.feasible.length === 0) {
      if (mayPreempt(pod, this.cache.nodes)) {
        const plan = planPreemption(facts, this.cache.list(), result.reasons);
        if (plan) void this.preempt(pod, plan);
      }
      this.fail(pod, failureMessage(this.cache.list().length, result.reasons), cycle);
      return;
    }
    const node = this.pick(facts, result.feasible);
    this.cache.assume(pod, node.name);
    this.queue.done(key);
    this.stats.scheduled++;
    void this.bind(pod, node.name);
  }

  /** For each claim of the pod that is bound, the node affinity of its volume. */
  private volumeAffinities(pod: Pod): NodeSelectorTerm[][] {
    const out: NodeSelectorTerm[][] = [];
    for (const v of pod.spec?.volumes ?? []) {
      const claimName = v.persistentVolumeClaim?.claimName;
      if (!claimName) continue;
      const claim = this.options.claims?.get(`${pod.metadata?.namespace}/${claimName}`);
      const pv = claim?.spec?.volumeName ? this.options.volumes?.get(claim.spec.volumeName) : undefined;
      const terms = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
      if (terms?.length) out.push(terms);
    }
    return out;
  }

  private findFeasible(facts: PodFacts): { feasible: NodeInfo[]; reasons: Map<string, readonly string[]> } {
    const nodes = this.cache.list();
    const n = nodes.length;
    const want = this.feasibleToFind(n);
    const feasible: NodeInfo[] = [];
    const reasons = new Map<string, readonly string[]>();
    let checked = 0;
    for (; checked < n && feasible.length < want; checked++) {
      const node = nodes[(this.nextStart + checked) % n];
      const r = runFilters(facts, node);
      if (r.length === 0) feasible.push(node);
      else reasons.set(node.name, r);
    }
    // Start the next pod where this one stopped, so sampling visits every node in turn.
    if (n > 0) this.nextStart = (this.nextStart + checked) % n;
    return { feasible, reasons };
  }

  private feasibleToFind(n: number): number {
    if (n < 100) return n;
    const pct = this.options.percentageOfNodesToScore ?? Math.max(5, 50 - Math.floor(n / 125));
    return Math.max(100, Math.floor((n * pct) / 100));
  }

  private pick(facts: PodFacts, feasible: NodeInfo[]): NodeInfo {
    if (feasible.length === 1) return feasible[0];
    const scores = scoreNodes(facts, feasible);
    let best = 0;
    let ties = 1;
    for (let i = 1; i < feasible.length; i++) {
      if (scores[i] > scores[best]) {
        best = i;
        ties = 1;
      } else if (scores[i] === scores[best] && Math.random() * ++ties < 1) {
        // Reservoir sampling among equal scores, as upstream, so ties do not pile onto one node.
        best = i;
      }
    }
    return feasible[best];
  }

  private fail(pod: Pod, message: string, cycle: number): void {
    const key = objectKey(pod);
    this.stats.failed++;
    this.queue.markUnschedulable(pod, cycle);
    if (this.lastFailure.get(key) === message) return;
    this.lastFailure.set(key, message);
    this.options.log?.('pod unschedulable', { pod: key, message });
    this.options.recorder?.record(objectRef(pod, 'Pod'), 'Warning', 'FailedScheduling', message);
    const condition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: new Date().toISOString() };
    this.options.client
      .patch(core('pods', pod.metadata?.namespace, pod.metadata?.name, 'status'), 'merge', { status: { conditions: [condition] } })
      .catch((err: Error) => this.options.log?.('could not set PodScheduled=False', { pod: key, error: err.message }));
  }

  /**
   * Makes room as the plan says: the pod is nominated for the node (status.nominatedNodeName) and
   * the victims are deleted with their grace period, each with a Preempted event; the pod is tried
   * again when they are gone, as with any pod deletion.
   */
  private async preempt(pod: Pod, plan: PreemptionPlan): Promise<void> {
    const key = objectKey(pod);
    this.options.log?.('preempting', { pod: key, node: plan.node, victims: plan.victims.map(objectKey) });
    try {
      await this.options.client.patch(core('pods', pod.metadata?.namespace, pod.metadata?.name, 'status'), 'merge', { status: { nominatedNodeName: plan.node } });
    } catch (err) {
      this.options.log?.('could not nominate the preemptor', { pod: key, error: (err as Error).message });
      return;
    }
    for (const victim of plan.victims) {
      this.options.recorder?.record(objectRef(victim, 'Pod'), 'Normal', 'Preempted', `Preempted by pod ${pod.metadata?.uid} on node ${plan.node}`);
      await this.options.client
        .delete(core('pods', victim.metadata?.namespace, victim.metadata?.name), { preconditions: { uid: victim.metadata?.uid } })
        .catch((err: Error) => this.options.log?.('could not delete a preemption victim', { pod: objectKey(victim), error: err.message }));
    }
  }

  private async bind(pod: Pod, node: string): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    this.bindsInFlight++;
    try {
      const binding: Binding = {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace: ns },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      };
      await this.options.client.create(core('pods', ns, name, 'binding'), binding);
      this.stats.bound++;
      this.options.recorder?.record(objectRef(pod, 'Pod'), 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${node}`);
    } catch (err) {
      this.stats.bindErrors++;
      this.cache.forget(pod);
      const gone = ApiError.isNotFound(err) || (err instanceof ApiError && err.code === 409);
      this.options.log?.('binding failed', { pod: `${ns}/${name}`, node, error: (err as Error).message });
      if (!gone && !this.stopped) {
        this.options.recorder?.record(objectRef(pod, 'Pod'), 'Warning', 'FailedScheduling', `Binding rejected: ${(err as Error).message}`);
        const retry = setTimeout(() => {
          const current = this.options.pods.get(`${ns}/${name}`);
          if (current && !current.spec?.nodeName) this.queue.add(current);
        }, 1000);
        retry.unref();
      }
    } finally {
      this.bindsInFlight--;
      const slot = this.bindSlot;
      this.bindSlot = undefined;
      slot?.();
      if (this.bindsInFlight === 0 && this.queue.length === 0) this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.bindsInFlight > 0 || this.queue.length > 0) return;
    for (const r of this.allBound.splice(0)) r();
  }
}

/** The parts of a node that decide whether pods fit; heartbeat timestamps are left out. */
function schedulingRelevant(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify([node.metadata?.labels, node.spec?.taints, node.spec?.unschedulable, node.status?.allocatable, ready]);
}

function specChanged(a: Pod, b: Pod): boolean {
  return (
    JSON.stringify([a.spec, a.metadata?.labels, a.metadata?.annotations]) !== JSON.stringify([b.spec, b.metadata?.labels, b.metadata?.annotations])
  );
}
