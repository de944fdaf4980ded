import type { Pod } from 'kubernetes-types/core/v1';
import type { ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1';
import { ApiError } from '../../../kube/api-error';
import { Selector } from '../../../kube/label-selector';
import { objectKey } from '../../../kube/object';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable } from '../../../kube/pod-conditions';
import { apps, core, type ResourceRef } from '../../../kube/resource-path';
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import { Expectations } from '../expectations';
import { controllerRef, generateName, newControllerRef } from '../owner-references';
import { podsToDelete } from './pod-ranking';
import { claimPods } from '../pod-claims';
import type { InformerLike, ObjectIndex } from '../../../kube/shared-informers';
import { deleteObject } from '../delete-object';

export interface ReplicaSetControllerOptions {
  workers?: number;
  /** Pods created or deleted per sync at most (upstream burstReplicas, 500). */
  burstReplicas?: number;
}

/**
 * The kind of replicated object a controller runs: ReplicaSets, or ReplicationControllers (their
 * older form, whose selector is a plain label map), which upstream also runs with the
 * ReplicaSet controller's code.
 */
export interface ReplicatedKind {
  name: string;
  kind: 'ReplicaSet' | 'ReplicationController';
  apiVersion: string;
  ref: (namespace?: string, name?: string, subresource?: string) => ResourceRef;
  selector: (obj: ReplicaSet) => LabelSelector | undefined;
}

export const REPLICA_SETS: ReplicatedKind = {
  name: 'replicaset-controller',
  kind: 'ReplicaSet',
  apiVersion: 'apps/v1',
  ref: (ns, name, sub) => apps('replicasets', ns, name, sub),
  selector: (rs) => rs.spec?.selector,
};

export const REPLICATION_CONTROLLERS: ReplicatedKind = {
  name: 'replicationmanager',
  kind: 'ReplicationController',
  apiVersion: 'v1',
  ref: (ns, name, sub) => core('replicationcontrollers', ns, name, sub),
  // An RC's spec.selector is a label map (the API defaults it to the template's labels).
  selector: (rc) => ({ matchLabels: (rc.spec?.selector as unknown as Record<string, string> | undefined) ?? rc.spec?.template?.metadata?.labels ?? {} }),
};

/** Slow start: 1, 2, 4, ... so a template that cannot create pods fails after one call, not hundreds. */
export function slowStartBatches(total: number): number[] {
  const out: number[] = [];
  let size = 1;
  for (let left = total; left > 0; size *= 2) {
    const n = Math.min(size, left);
    out.push(n);
    left -= n;
  }
  return out;
}

/** The status a ReplicaSet should report for the pods it controls, at time now. */
export function replicaSetStatus(rs: ReplicaSet, owned: Pod[], now: number): ReplicaSetStatus {
  const active = owned.filter(isPodActive);
  const templateLabels = Selector.fromMap(rs.spec?.template?.metadata?.labels);
  const minReady = rs.spec?.minReadySeconds ?? 0;
  return {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => templateLabels.matches(p.metadata?.labels)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata?.generation,
    conditions: rs.status?.conditions,
  };
}

/** Keeps the number of pods of every ReplicaSet (or ReplicationController) equal to spec.replicas. */
export class ReplicaSetController extends QueueController {
  readonly name: string;
  private readonly expectations = new Expectations();
  private readonly replicaSets: InformerLike<ReplicaSet>;
  private readonly podIndex: ObjectIndex<Pod>;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext, private readonly options: ReplicaSetControllerOptions = {}, private readonly replicated: ReplicatedKind = REPLICA_SETS) {
    super(ctx, { workers: options.workers ?? 4, failure: `${replicated.kind === 'ReplicaSet' ? 'replicaset' : 'replicationcontroller'} sync failed`, keyField: replicated.kind === 'ReplicaSet' ? 'replicaset' : 'replicationcontroller' });
    this.name = replicated.name;
    this.replicaSets = ctx.informers.get<ReplicaSet>(replicated.ref());
    this.podIndex = ctx.informers.index<Pod>(core('pods'));
    this.recorder = ctx.recorder(this.name);
    this.replicaSets.on((type, rs) => {
      if (type === 'DELETED') this.expectations.delete(objectKey(rs));
      this.queue.add(objectKey(rs));
    });
    ctx.informers.get<Pod>(core('pods')).on((type, pod, old) => this.onPod(type, pod, old));
  }


  private onPod(type: string, pod: Pod, old?: Pod): void {
    const ns = pod.metadata?.namespace ?? '';
    const ref = controllerRef(pod);
    const oldRef = old ? controllerRef(old) : undefined;
    if (ref?.kind === this.replicated.kind) {
      const owner = `${ns}/${ref.name}`;
      if (type === 'ADDED') this.expectations.creationObserved(owner, pod.metadata?.name ?? '');
      if (type === 'DELETED' || (pod.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp)) {
        this.expectations.deletionObserved(owner, pod.metadata?.name ?? '');
      }
      this.queue.add(owner);
    }
    if (oldRef?.kind === this.replicated.kind && oldRef.uid !== ref?.uid) this.queue.add(`${ns}/${oldRef.name}`);
    // An orphan may be adopted by any ReplicaSet whose selector matches it.
    if (!ref && type !== 'DELETED' && isPodActive(pod)) {
      for (const rs of this.replicaSets.list()) {
        if (rs.metadata?.namespace === ns && Selector.fromLabelSelector(this.replicated.selector(rs)).matches(pod.metadata?.labels)) this.queue.add(objectKey(rs));
      }
    }
  }

  protected async sync(key: string): Promise<void> {
    const rs = this.replicaSets.get(key);
    if (!rs) return;
    const owned = await this.claimPods(rs);
    if (this.expectations.satisfied(key) && !rs.metadata?.deletionTimestamp) {
      await this.manageReplicas(rs, owned.filter(isPodActive));
    }
    await this.updateStatus(rs, owned);
  }

  /** Pods controlled by rs, after adopting matching orphans and releasing pods that stopped matching. */
  private claimPods(rs: ReplicaSet): Promise<Pod[]> {
    const selector = Selector.fromLabelSelector(this.replicated.selector(rs));
    return claimPods(this.ctx.client, rs, this.replicated, selector, this.podIndex.inNamespace(rs.metadata?.namespace ?? ''));
  }

  private async manageReplicas(rs: ReplicaSet, active: Pod[]): Promise<void> {
    const key = objectKey(rs);
    const want = rs.spec?.replicas ?? 1;
    const burst = this.options.burstReplicas ?? 500;
    const diff = active.length - want;
    if (diff < 0) await this.createPods(rs, Math.min(-diff, burst));
    else if (diff > 0) {
      const victims = podsToDelete(active, Math.min(diff, burst));
      this.expectations.expectDeletions(key, victims.map((p) => p.metadata?.name ?? ''));
      await Promise.all(victims.map((p) => this.deletePod(rs, p)));
    }
  }

  private async createPods(rs: ReplicaSet, count: number): Promise<void> {
    const key = objectKey(rs);
    for (const batch of slowStartBatches(count)) {
      const pods = Array.from({ length: batch }, () => this.newPod(rs));
      this.expectations.expectCreations(key, pods.map((p) => p.metadata?.name ?? ''));
      const results = await Promise.allSettled(pods.map((p) => this.ctx.client.create<Pod>(core('pods', rs.metadata?.namespace), p)));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ pod: pods[i], err: r.reason as Error }] : []));
      for (const r of results) {
        if (r.status === 'fulfilled') this.recorder.record(objectRef(rs, this.replicated.kind, this.replicated.apiVersion), 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata?.name}`);
      }
      if (failed.length > 0) {
        for (const f of failed) this.expectations.creationObserved(key, f.pod.metadata?.name ?? '');
        const msg = failed[0].err.message;
        this.recorder.record(objectRef(rs, this.replicated.kind, this.replicated.apiVersion), 'Warning', 'FailedCreate', `Error creating: ${msg}`);
        // Skip the remaining batches: they would fail the same way.
        throw new Error(`creating pods for ${this.replicated.kind} ${key}: ${msg}`);
      }
    }
  }

  private newPod(rs: ReplicaSet): Pod {
    const template = rs.spec?.template ?? {};
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: generateName(rs.metadata?.name ?? 'pod'),
        namespace: rs.metadata?.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: template.metadata?.annotations ? { ...template.metadata.annotations } : undefined,
        ownerReferences: [newControllerRef(rs, this.replicated.apiVersion, this.replicated.kind)],
      },
      spec: template.spec ?? { containers: [] },
    };
  }

  private async deletePod(rs: ReplicaSet, pod: Pod): Promise<void> {
    try {
      await deleteObject(this.ctx.client, core('pods', pod.metadata?.namespace, pod.metadata?.name));
      this.recorder.record(objectRef(rs, this.replicated.kind, this.replicated.apiVersion), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
    } catch (err) {
      this.expectations.deletionObserved(objectKey(rs), pod.metadata?.name ?? '');
      if (!ApiError.isNotFound(err)) throw err;
    }
  }

  private async updateStatus(rs: ReplicaSet, owned: Pod[]): Promise<void> {
    const now = Date.now();
    const status = replicaSetStatus(rs, owned, now);
    // Pods turn available minReadySeconds after turning ready, with no event to say so: look again then.
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const waits = owned.map((p) => msUntilAvailable(p, minReady, now)).filter((ms): ms is number => ms !== undefined);
    if (waits.length > 0) this.queue.addAfter(objectKey(rs), Math.min(...waits) + 50);
    if (sameStatus(rs.status, status)) return;
    try {
      await this.ctx.client.patch(this.replicated.ref(rs.metadata?.namespace, rs.metadata?.name, 'status'), 'merge', { status });
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
  }
}

function sameStatus(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  return (
    (a?.replicas ?? 0) === b.replicas &&
    (a?.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0) &&
    (a?.readyReplicas ?? 0) === (b.readyReplicas ?? 0) &&
    (a?.availableReplicas ?? 0) === (b.availableReplicas ?? 0) &&
    a?.observedGeneration === b.observedGeneration
  );
}
