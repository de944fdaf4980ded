import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { Selector } from '../../../kube/label-selector';
import { objectKey } from '../../../kube/object';
import { isPodTerminal } from '../../../kube/pod-conditions';
import { apps, core } from '../../../kube/resource-path';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';
import { deploymentConditions, deploymentCounts, msUntilDeadline, rolloutComplete } from './deployment-status';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import { controllerRef, newControllerRef } from '../owner-references';
import { canonicalJson, POD_TEMPLATE_HASH, podTemplateHash, templatesEqual } from '../pod-template-hash';
import { newReplicaSetReplicas, scaleDownOldReplicaSets, surgeAndUnavailable } from './rolling-update';
import type { InformerLike, ObjectIndex } from '../../../kube/shared-informers';
import { deleteObject } from '../delete-object';

export const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** Deployment annotations that are not copied onto its ReplicaSets. */
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, 'deployment.kubernetes.io/revision-history', DESIRED, MAX_REPLICAS]);

export function revisionOf(rs: ReplicaSet): number {
  return Number(rs.metadata?.annotations?.[REVISION] ?? 0) || 0;
}

interface SyncState {
  d: Deployment;
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
  createdNewRS: boolean;
}

/** Rolls Deployments out through ReplicaSets: RollingUpdate, Recreate, revisions, pause, conditions. */
export class DeploymentController extends QueueController {
  readonly name = 'deployment-controller';
  private readonly deployments: InformerLike<Deployment>;
  private readonly replicaSets: InformerLike<ReplicaSet>;
  private readonly rsIndex: ObjectIndex<ReplicaSet>;
  private readonly podIndex: ObjectIndex<Pod>;
  private readonly recorder: EventRecorder;
  /** ReplicaSets as this controller last wrote them, newer than the informer's copy until the watch catches up. */
  private readonly written = new Map<string, ReplicaSet>();

  constructor(ctx: ControllerContext, options: { workers?: number } = {}) {
    super(ctx, { workers: options.workers ?? 4, failure: 'deployment sync failed', keyField: 'deployment' });
    this.deployments = ctx.informers.get<Deployment>(apps('deployments'));
    this.replicaSets = ctx.informers.get<ReplicaSet>(apps('replicasets'));
    this.rsIndex = ctx.informers.index<ReplicaSet>(apps('replicasets'));
    this.podIndex = ctx.informers.index<Pod>(core('pods'));
    this.recorder = ctx.recorder(this.name);
    this.deployments.on((_t, d) => this.queue.add(objectKey(d)));
    this.replicaSets.on((type, rs, old) => this.onReplicaSet(type, rs, old));
    ctx.informers.get<Pod>(core('pods')).on((type, pod) => {
      // Recreate waits for old pods to be gone, which only pod deletions reveal.
      if (type !== 'DELETED') return;
      const rsRef = controllerRef(pod);
      const rs = rsRef?.kind === 'ReplicaSet' ? this.replicaSets.get(`${pod.metadata?.namespace}/${rsRef.name}`) : undefined;
      const dRef = rs ? controllerRef(rs) : undefined;
      if (dRef?.kind === 'Deployment') this.queue.add(`${pod.metadata?.namespace}/${dRef.name}`);
    });
  }


  private onReplicaSet(type: string, rs: ReplicaSet, old?: ReplicaSet): void {
    const ns = rs.metadata?.namespace ?? '';
    if (type === 'DELETED') this.written.delete(objectKey(rs));
    const ref = controllerRef(rs);
    if (ref?.kind === 'Deployment') this.queue.add(`${ns}/${ref.name}`);
    const oldRef = old ? controllerRef(old) : undefined;
    if (oldRef?.kind === 'Deployment' && oldRef.uid !== ref?.uid) this.queue.add(`${ns}/${oldRef.name}`);
    if (!ref && type !== 'DELETED') {
      for (const d of this.deployments.list()) {
        if (d.metadata?.namespace === ns && Selector.fromLabelSelector(d.spec?.selector).matches(rs.metadata?.labels)) this.queue.add(objectKey(d));
      }
    }
  }

  protected async sync(key: string): Promise<void> {
    const d = this.deployments.get(key);
    if (!d || d.metadata?.deletionTimestamp) return;
    if (Selector.fromLabelSelector(d.spec?.selector).isEmpty()) {
      this.recorder.record(objectRef(d, 'Deployment', 'apps/v1'), 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const all = await this.claimReplicaSets(d);
    const newRS = all.find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
    const state: SyncState = { d, newRS, oldRSs: all.filter((rs) => rs !== newRS), createdNewRS: false };
    if (d.spec?.paused) await this.syncPaused(state);
    else if (d.spec?.strategy?.type === 'Recreate') await this.rolloutRecreate(state);
    else await this.rolloutRolling(state);
    await this.updateStatus(state);
  }

  /** The freshest copy of a ReplicaSet: what we last wrote if the watch has not caught up yet. */
  private fresh(rs: ReplicaSet): ReplicaSet {
    const w = this.written.get(objectKey(rs));
    if (!w) return rs;
    if (Number(w.metadata?.resourceVersion) > Number(rs.metadata?.resourceVersion)) return w;
    this.written.delete(objectKey(rs));
    return rs;
  }

  private async claimReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const selector = Selector.fromLabelSelector(d.spec?.selector);
    const out: ReplicaSet[] = [];
    for (const candidate of this.rsIndex.inNamespace(d.metadata?.namespace ?? '')) {
      const rs = this.fresh(candidate);
      const ref = controllerRef(rs);
      const matches = selector.matches(rs.metadata?.labels);
      if (ref?.uid === d.metadata?.uid) {
        if (matches) out.push(rs);
        else await this.setOwner(rs, d, false);
      } else if (!ref && matches && !rs.metadata?.deletionTimestamp) {
        const adopted = await this.setOwner(rs, d, true);
        if (adopted) out.push(adopted);
      }
    }
    return out;
  }

  private async setOwner(rs: ReplicaSet, d: Deployment, adopt: boolean): Promise<ReplicaSet | undefined> {
    const others = (rs.metadata?.ownerReferences ?? []).filter((o) => o.uid !== d.metadata?.uid);
    const refs = adopt ? [...others, newControllerRef(d, 'apps/v1', 'Deployment')] : others;
    try {
      return await this.write(rs, { metadata: { ownerReferences: refs, resourceVersion: rs.metadata?.resourceVersion } });
    } catch (err) {
      if (ApiError.isNotFound(err) || ApiError.isConflict(err)) return undefined;
      throw err;
    }
  }

  private async write(rs: ReplicaSet, patch: unknown): Promise<ReplicaSet> {
    const updated = await this.ctx.client.patch<ReplicaSet>(apps('replicasets', rs.metadata?.namespace, rs.metadata?.name), 'merge', patch);
    this.written.set(objectKey(updated), updated);
    return updated;
  }

  private async scale(d: Deployment, rs: ReplicaSet, replicas: number): Promise<ReplicaSet> {
    if ((rs.spec?.replicas ?? 0) === replicas) return rs;
    const { maxSurge } = surgeAndUnavailable(d);
    const updated = await this.write(rs, {
      metadata: { annotations: { [DESIRED]: String(d.spec?.replicas ?? 1), [MAX_REPLICAS]: String((d.spec?.replicas ?? 1) + maxSurge) } },
      spec: { replicas },
    });
    const verb = replicas > (rs.spec?.replicas ?? 0) ? 'up' : 'down';
    this.recorder.record(objectRef(d, 'Deployment', 'apps/v1'), 'Normal', 'ScalingReplicaSet', `Scaled ${verb} replica set ${rs.metadata?.name} from ${rs.spec?.replicas ?? 0} to ${replicas}`);
    return updated;
  }

  /** Finds or creates the ReplicaSet for the current template and makes it the newest revision. */
  private async ensureNewReplicaSet(state: SyncState, replicas: (all: ReplicaSet[], newRS?: ReplicaSet) => number): Promise<ReplicaSet> {
    const { d, oldRSs } = state;
    const maxOld = Math.max(0, ...oldRSs.map(revisionOf));
    const revision = String(maxOld + 1);
    if (state.newRS) {
      let rs = state.newRS;
      // A rollback re-uses an old ReplicaSet: it becomes the newest revision again.
      if (revisionOf(rs) <= maxOld) rs = await this.write(rs, { metadata: { annotations: { [REVISION]: revision } } });
      if ((rs.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) rs = await this.write(rs, { spec: { minReadySeconds: d.spec?.minReadySeconds ?? 0 } });
      state.newRS = rs;
      await this.setDeploymentRevision(d, revisionOf(rs));
      return rs;
    }
    const rs = await this.createReplicaSet(d, revision, replicas([...oldRSs]));
    state.newRS = rs;
    state.createdNewRS = true;
    await this.setDeploymentRevision(d, Number(revision));
    return rs;
  }

  private async createReplicaSet(d: Deployment, revision: string, replicas: number): Promise<ReplicaSet> {
    let collisions = d.status?.collisionCount ?? 0;
    for (let attempt = 0; attempt < 5; attempt++, collisions++) {
      const body = this.replicaSetFor(d, revision, replicas, collisions);
      try {
        const created = await this.ctx.client.create<ReplicaSet>(apps('replicasets', d.metadata?.namespace), body);
        this.written.set(objectKey(created), created);
        this.recorder.record(objectRef(d, 'Deployment', 'apps/v1'), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata?.name} from 0 to ${replicas}`);
        if (collisions !== (d.status?.collisionCount ?? 0)) {
          await this.ctx.client.patch(apps('deployments', d.metadata?.namespace, d.metadata?.name, 'status'), 'merge', { status: { collisionCount: collisions } });
        }
        return created;
      } catch (err) {
        if (!ApiError.isAlreadyExists(err)) throw err;
        const existing = await this.ctx.client.get<ReplicaSet>(apps('replicasets', d.metadata?.namespace, body.metadata?.name));
        // Ours already (the informer lagged): use it. Someone else's: a hash collision, try the next name.
        if (controllerRef(existing)?.uid === d.metadata?.uid && templatesEqual(existing.spec?.template, d.spec?.template)) return existing;
      }
    }
    throw new Error(`Deployment ${objectKey(d)}: could not find a free ReplicaSet name after 5 hash collisions; delete stray ReplicaSets named ${d.metadata?.name}-*`);
  }

  private replicaSetFor(d: Deployment, revision: string, replicas: number, collisions: number): ReplicaSet {
    const hash = podTemplateHash(d.spec?.template, collisions);
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (!NOT_COPIED.has(k)) annotations[k] = v;
    const { maxSurge } = surgeAndUnavailable(d);
    Object.assign(annotations, { [REVISION]: revision, [DESIRED]: String(d.spec?.replicas ?? 1), [MAX_REPLICAS]: String((d.spec?.replicas ?? 1) + maxSurge) });
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata?.name}-${hash}`,
        namespace: d.metadata?.namespace,
        labels: template.metadata.labels,
        annotations,
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: { replicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
  }

  private async setDeploymentRevision(d: Deployment, revision: number): Promise<void> {
    if (d.metadata?.annotations?.[REVISION] === String(revision)) return;
    await this.ctx.client.patch(apps('deployments', d.metadata?.namespace, d.metadata?.name), 'merge', { metadata: { annotations: { [REVISION]: String(revision) } } });
  }

  private async rolloutRolling(state: SyncState): Promise<void> {
    const { d } = state;
    const newRS = await this.ensureNewReplicaSet(state, (all) => newReplicaSetReplicas(d, all, undefined));
    const target = newReplicaSetReplicas(d, [...state.oldRSs, newRS], newRS);
    if (target !== (newRS.spec?.replicas ?? 0)) {
      state.newRS = await this.scale(d, newRS, target);
      if (target > (newRS.spec?.replicas ?? 0)) return;
    }
    const sizes = scaleDownOldReplicaSets(d, state.oldRSs, state.newRS);
    state.oldRSs = await Promise.all(state.oldRSs.map((rs) => (sizes.has(rs.metadata?.name ?? '') ? this.scale(d, rs, sizes.get(rs.metadata?.name ?? '') ?? 0) : rs)));
    if (sizes.size === 0) await this.cleanupHistory(state);
  }

  private async rolloutRecreate(state: SyncState): Promise<void> {
    const { d } = state;
    const running = state.oldRSs.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    if (running.length > 0) {
      state.oldRSs = await Promise.all(state.oldRSs.map((rs) => this.scale(d, rs, 0)));
      return;
    }
    // Recreate promises that old and new pods never run together: wait for the last old pod.
    const oldPods = state.oldRSs.flatMap((rs) => this.podIndex.ownedBy(rs.metadata?.uid ?? '')).filter((p) => !isPodTerminal(p));
    if (oldPods.length > 0 && !state.newRS) return;
    const newRS = await this.ensureNewReplicaSet(state, () => d.spec?.replicas ?? 1);
    state.newRS = await this.scale(d, newRS, d.spec?.replicas ?? 1);
    await this.cleanupHistory(state);
  }

  /** Paused: no new rollout, but `kubectl scale` still applies to the current ReplicaSet. */
  private async syncPaused(state: SyncState): Promise<void> {
    const { d, newRS } = state;
    const active = [...state.oldRSs, ...(newRS ? [newRS] : [])].filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    if (active.length === 1) {
      const scaled = await this.scale(d, active[0], d.spec?.replicas ?? 1);
      if (active[0] === newRS) state.newRS = scaled;
    }
  }

  private async cleanupHistory(state: SyncState): Promise<void> {
    const limit = state.d.spec?.revisionHistoryLimit ?? 10;
    const idle = state.oldRSs
      .filter((rs) => (rs.spec?.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata?.deletionTimestamp)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      try {
        await deleteObject(this.ctx.client, apps('replicasets', rs.metadata?.namespace, rs.metadata?.name));
      } catch (err) {
        if (!ApiError.isNotFound(err)) throw err;
      }
    }
  }

  private async updateStatus(state: SyncState): Promise<void> {
    const { d, newRS } = state;
    const all = [...state.oldRSs, ...(newRS ? [newRS] : [])];
    const now = Date.now();
    const counts = deploymentCounts(d, all, newRS);
    const conditions = deploymentConditions({ d, status: counts, newRS, createdNewRS: state.createdNewRS, now });
    const status: DeploymentStatus = { ...counts, conditions };
    const wait = rolloutComplete(d, counts) ? undefined : msUntilDeadline(d, conditions, now);
    if (wait !== undefined) this.queue.addAfter(objectKey(d), wait);
    if (canonicalJson(status) === canonicalJson(d.status)) return;
    try {
      await this.ctx.client.patch(apps('deployments', d.metadata?.namespace, d.metadata?.name, 'status'), 'merge', { status });
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
  }
}
