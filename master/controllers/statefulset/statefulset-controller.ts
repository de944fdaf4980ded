import type { ControllerRevision, StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import { objectKey } from '../../../kube/object';
import { isPodAvailable, isPodReady } from '../../../kube/pod-conditions';
import { apps, core } from '../../../kube/resource-path';
import type { InformerLike, ObjectIndex } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { deleteObject } from '../delete-object';
import { controllerRef } from '../owner-references';
import { claimPods } from '../pod-claims';
import { Selector } from '../../../kube/label-selector';
import { QueueController } from '../queue-controller';
import { ensureRevision, REVISION_LABEL, revisionData, revisionHash, RevisionCollision, templateOf, trimRevisions } from '../controller-revisions';
import { claimFor, isFinished, isHealthy, ordinalOf, startOrdinal, statefulPod } from './stateful-pods';

interface Revisions {
  current: ControllerRevision;
  update: ControllerRevision;
  all: ControllerRevision[];
}

/**
 * Runs StatefulSets as Kubernetes' controller does: pods NAME-0..N-1 with stable identities and
 * one claim per volumeClaimTemplate each (kept when pods go), created in order and each only once
 * its predecessors are Running and Ready (OrderedReady) or all at once (Parallel), removed from the
 * highest ordinal down; templates recorded as ControllerRevisions, so a RollingUpdate replaces pods
 * from the highest ordinal down to the partition, one Ready pod at a time, and `kubectl rollout
 * undo` finds the old template. Pods below the partition that are recreated keep the current revision.
 */
export class StatefulSetController extends QueueController {
  readonly name = 'statefulset-controller';
  private readonly sets: InformerLike<StatefulSet>;
  private readonly podIndex: ObjectIndex<Pod>;
  private readonly revisions: InformerLike<ControllerRevision>;
  private readonly claims: InformerLike<PersistentVolumeClaim>;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'statefulset sync failed', keyField: 'statefulset' });
    this.sets = ctx.informers.get<StatefulSet>(apps('statefulsets'));
    this.podIndex = ctx.informers.index<Pod>(core('pods'));
    this.revisions = ctx.informers.get<ControllerRevision>(apps('controllerrevisions'));
    this.claims = ctx.informers.get<PersistentVolumeClaim>(core('persistentvolumeclaims'));
    this.recorder = ctx.recorder(this.name);
    this.sets.on((_type, sts) => this.queue.add(objectKey(sts)));
    const byOwner = (_type: string, obj: Pod | ControllerRevision): void => {
      const ref = controllerRef(obj);
      if (ref?.kind === 'StatefulSet') this.queue.add(`${obj.metadata?.namespace}/${ref.name}`);
    };
    ctx.informers.get<Pod>(core('pods')).on((type, pod) => {
      byOwner(type, pod);
      // An orphan named like one of a set's pods, matching its selector, is adopted by it.
      if (controllerRef(pod) || type === 'DELETED') return;
      for (const sts of this.sets.list()) {
        if (sts.metadata?.namespace === pod.metadata?.namespace && ordinalOf(sts, pod) !== undefined && Selector.fromLabelSelector(sts.spec?.selector).matches(pod.metadata?.labels)) this.queue.add(objectKey(sts));
      }
    });
    this.revisions.on(byOwner);
  }

  protected async sync(key: string): Promise<void> {
    const sts = this.sets.get(key);
    if (!sts || sts.metadata?.deletionTimestamp) return;
    const candidates = this.podIndex.inNamespace(sts.metadata?.namespace ?? '');
    const pods = await claimPods(this.ctx.client, sts, { apiVersion: 'apps/v1', kind: 'StatefulSet' }, Selector.fromLabelSelector(sts.spec?.selector), candidates, (p) => ordinalOf(sts, p) !== undefined);
    const revisions = await this.ensureRevisions(sts);
    await this.reconcilePods(sts, pods, revisions);
    await this.updateStatus(sts, revisions);
    await this.trimHistory(sts, revisions, pods);
  }

  /** The revision of the current template (made, or renumbered as the newest on a roll-back) and the current one. */
  private async ensureRevisions(sts: StatefulSet): Promise<Revisions> {
    const ns = sts.metadata?.namespace ?? '';
    const uid = sts.metadata?.uid;
    const owned = this.revisions.list().filter((r) => r.metadata?.namespace === ns && controllerRef(r)?.uid === uid).sort((a, b) => a.revision - b.revision);
    let made: { update: ControllerRevision; all: ControllerRevision[] };
    try {
      made = await ensureRevision(this.ctx.client, sts, 'StatefulSet', owned, revisionHash(revisionData(sts), sts.status?.collisionCount ?? 0));
    } catch (err) {
      // Same name, other data: the next collision count gives another name on the next pass.
      if (err instanceof RevisionCollision) await this.ctx.client.patch(apps('statefulsets', ns, sts.metadata?.name, 'status'), 'merge', { status: { collisionCount: (sts.status?.collisionCount ?? 0) + 1 } });
      throw err;
    }
    const { update, all } = made;
    const current = all.find((r) => r.metadata?.name === sts.status?.currentRevision) ?? update;
    return { current, update, all };
  }

  private async reconcilePods(sts: StatefulSet, pods: Pod[], rev: Revisions): Promise<void> {
    const start = startOrdinal(sts);
    const replicas = sts.spec?.replicas ?? 1;
    const parallel = sts.spec?.podManagementPolicy === 'Parallel';
    const byOrdinal = new Map(pods.map((p) => [ordinalOf(sts, p) as number, p]));
    const rolling = (sts.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const partition = rolling ? sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0 : 0;
    for (let i = start; i < start + replicas; i++) {
      const pod = byOrdinal.get(i);
      if (!pod) {
        const useCurrent = rolling && i - start < partition && rev.current.metadata?.name !== rev.update.metadata?.name;
        await this.createPod(sts, i, useCurrent ? rev.current : rev.update);
        if (!parallel) return;
        continue;
      }
      if (isFinished(pod) && !pod.metadata?.deletionTimestamp) {
        // A pod of a set is never left finished: it goes, and the next pass makes it again.
        await this.deletePod(sts, pod, 'it finished');
        if (!parallel) return;
        continue;
      }
      if (!parallel && !isHealthy(pod)) return;
    }
    const condemned = pods.filter((p) => { const o = ordinalOf(sts, p) as number; return o < start || o >= start + replicas; }).sort((a, b) => (ordinalOf(sts, b) as number) - (ordinalOf(sts, a) as number));
    for (const pod of condemned) {
      if (pod.metadata?.deletionTimestamp) {
        if (!parallel) return;
        continue;
      }
      await this.deletePod(sts, pod, 'the set scaled down');
      if (!parallel) return;
    }
    if (!rolling) return;
    const inRange = [...byOrdinal.entries()].filter(([o]) => o >= start && o < start + replicas).map(([, p]) => p);
    if (inRange.length < replicas || inRange.some((p) => !isHealthy(p))) return;
    for (let i = start + replicas - 1; i >= start + partition; i--) {
      const pod = byOrdinal.get(i);
      if (pod && pod.metadata?.labels?.[REVISION_LABEL] !== rev.update.metadata?.name) {
        await this.deletePod(sts, pod, `it runs revision ${pod.metadata?.labels?.[REVISION_LABEL]}, not ${rev.update.metadata?.name}`);
        return;
      }
    }
  }

  private async createPod(sts: StatefulSet, ordinal: number, revision: ControllerRevision): Promise<void> {
    const ns = sts.metadata?.namespace ?? '';
    const pod = statefulPod(sts, ordinal, revision.metadata?.name === undefined ? sts.spec?.template ?? {} : templateOf(revision), revision.metadata?.name ?? '');
    const name = pod.metadata?.name ?? '';
    const setRef = objectRef(sts, 'StatefulSet', 'apps/v1');
    for (const template of sts.spec?.volumeClaimTemplates ?? []) {
      const claim = claimFor(sts, template, name);
      if (this.claims.get(`${ns}/${claim.metadata?.name}`)) continue;
      try {
        await this.ctx.client.create(core('persistentvolumeclaims', ns), claim);
        this.recorder.record(setRef, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata?.name} Pod ${name} in StatefulSet ${sts.metadata?.name} success`);
      } catch (err) {
        if (!ApiError.isAlreadyExists(err)) {
          this.recorder.record(setRef, 'Warning', 'FailedCreate', `create Claim ${claim.metadata?.name} for Pod ${name} in StatefulSet ${sts.metadata?.name} failed error: ${(err as Error).message}`);
          throw err;
        }
      }
    }
    try {
      await this.ctx.client.create(core('pods', ns), pod);
      this.recorder.record(setRef, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${sts.metadata?.name} successful`);
    } catch (err) {
      if (ApiError.isAlreadyExists(err)) return;
      this.recorder.record(setRef, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${sts.metadata?.name} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  private async deletePod(sts: StatefulSet, pod: Pod, why: string): Promise<void> {
    try {
      await deleteObject(this.ctx.client, core('pods', pod.metadata?.namespace, pod.metadata?.name), { preconditions: { uid: pod.metadata?.uid } });
      this.recorder.record(objectRef(sts, 'StatefulSet', 'apps/v1'), 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata?.name} in StatefulSet ${sts.metadata?.name} successful (${why})`);
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
  }

  private async updateStatus(sts: StatefulSet, rev: Revisions): Promise<void> {
    const ns = sts.metadata?.namespace ?? '';
    // Read the pods again: this pass may have created or deleted some.
    const pods = this.podIndex.inNamespace(ns).filter((p) => controllerRef(p)?.uid === sts.metadata?.uid && ordinalOf(sts, p) !== undefined && !p.metadata?.deletionTimestamp);
    const replicas = sts.spec?.replicas ?? 1;
    const now = Date.now();
    const update = rev.update.metadata?.name ?? '';
    const updated = pods.filter((p) => p.metadata?.labels?.[REVISION_LABEL] === update).length;
    const ready = pods.filter(isPodReady).length;
    const done = updated === replicas && pods.length === replicas && ready === replicas;
    const current = done ? update : rev.current.metadata?.name ?? update;
    const status: StatefulSetStatus = {
      observedGeneration: sts.metadata?.generation,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: pods.filter((p) => isPodAvailable(p, sts.spec?.minReadySeconds ?? 0, now)).length,
      currentReplicas: done ? updated : pods.filter((p) => p.metadata?.labels?.[REVISION_LABEL] === current).length,
      updatedReplicas: updated,
      currentRevision: current,
      updateRevision: update,
      collisionCount: sts.status?.collisionCount ?? 0,
    };
    const before: StatefulSetStatus = sts.status ?? { replicas: 0 };
    if ((Object.keys(status) as (keyof StatefulSetStatus)[]).every((k) => before[k] === status[k])) return;
    await this.ctx.client.patch(apps('statefulsets', ns, sts.metadata?.name, 'status'), 'merge', { status });
  }

  /** Keeps revisionHistoryLimit (10) old revisions besides the current, the update and those live pods run. */
  private async trimHistory(sts: StatefulSet, rev: Revisions, pods: Pod[]): Promise<void> {
    const live = new Set([rev.current.metadata?.name, rev.update.metadata?.name, ...pods.map((p) => p.metadata?.labels?.[REVISION_LABEL])]);
    await trimRevisions(this.ctx.client, rev.all, live, sts.spec?.revisionHistoryLimit ?? 10);
  }

}
