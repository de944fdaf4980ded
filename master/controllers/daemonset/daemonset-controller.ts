import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1';
import type { Node, Pod, Toleration } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { objectKey } from '../../../kube/object';
import { isPodAvailable, isPodReady, isPodTerminal, msUntilAvailable } from '../../../kube/pod-conditions';
import { apps, core } from '../../../kube/resource-path';
import { matchesNodeSelectorAndAffinity, pinnedNodeName } from '../../scheduler/node-affinity';
import { isTaintTolerated } from '../../scheduler/taints';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import { Expectations } from '../expectations';
import { controllerRef, generateName, newControllerRef } from '../owner-references';
import { podTemplateHash } from '../pod-template-hash';
import { ensureRevision, REVISION_LABEL, trimRevisions } from '../controller-revisions';
import { resolveIntOrPercent } from '../../../kube/int-or-percent';
import type { InformerLike, ObjectIndex } from '../../../kube/shared-informers';
import { deleteObject } from '../delete-object';


/** Tolerations every daemon pod gets, as upstream, so add-ons keep running on troubled nodes. */
export function daemonTolerations(ds: DaemonSet): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (ds.spec?.template?.spec?.hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const own = ds.spec?.template?.spec?.tolerations ?? [];
  return [...own, ...t.filter((d) => !own.some((o) => o.key === d.key && o.effect === d.effect))];
}

/**
 * Where a DaemonSet wants pods: shouldRun = a new pod may be placed (labels match, NoSchedule and
 * NoExecute taints tolerated); shouldContinue = a pod already there may stay (only NoExecute
 * counts), so cordoning or a not-ready taint does not remove running daemons, as upstream.
 */
export function daemonPlacement(ds: DaemonSet, node: Node): { shouldRun: boolean; shouldContinue: boolean } {
  const probe: Pod = { spec: { ...(ds.spec?.template?.spec ?? { containers: [] }), nodeName: undefined } };
  if (!matchesNodeSelectorAndAffinity(probe, node)) return { shouldRun: false, shouldContinue: false };
  const tolerations = daemonTolerations(ds);
  const untolerated = (node.spec?.taints ?? []).filter((t) => t.effect !== 'PreferNoSchedule' && !isTaintTolerated(t, tolerations));
  return { shouldRun: untolerated.length === 0, shouldContinue: untolerated.every((t) => t.effect !== 'NoExecute') };
}

export function shouldRunOn(ds: DaemonSet, node: Node): boolean {
  return daemonPlacement(ds, node).shouldRun;
}

/** Runs one pod of every DaemonSet on every node it selects, including nodes that join later. */
export class DaemonSetController extends QueueController {
  readonly name = 'daemonset-controller';
  private readonly expectations = new Expectations();
  private readonly daemonSets: InformerLike<DaemonSet>;
  private readonly nodes: InformerLike<Node>;
  private readonly podIndex: ObjectIndex<Pod>;
  private readonly revisions: InformerLike<ControllerRevision>;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'daemonset sync failed', keyField: 'daemonset' });
    this.daemonSets = ctx.informers.get<DaemonSet>(apps('daemonsets'));
    this.nodes = ctx.informers.get<Node>(core('nodes'));
    this.podIndex = ctx.informers.index<Pod>(core('pods'));
    this.revisions = ctx.informers.get<ControllerRevision>(apps('controllerrevisions'));
    this.recorder = ctx.recorder(this.name);
    this.daemonSets.on((_t, ds) => this.queue.add(objectKey(ds)));
    this.nodes.on((type, node, old) => {
      if (type === 'MODIFIED' && old && sameForDaemons(old, node)) return;
      for (const ds of this.daemonSets.list()) this.queue.add(objectKey(ds));
    });
    ctx.informers.get<Pod>(core('pods')).on((type, pod, old) => {
      const ref = controllerRef(pod);
      if (ref?.kind !== 'DaemonSet') return;
      const owner = `${pod.metadata?.namespace}/${ref.name}`;
      if (type === 'ADDED') this.expectations.creationObserved(owner, pod.metadata?.name ?? '');
      if (type === 'DELETED' || (pod.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp)) this.expectations.deletionObserved(owner, pod.metadata?.name ?? '');
      this.queue.add(owner);
    });
  }


  protected async sync(key: string): Promise<void> {
    const ds = this.daemonSets.get(key);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const hash = podTemplateHash(ds.spec?.template);
    const nodes = this.nodes.list();
    const byNode = this.podsByNode(ds);
    if (!ds.metadata?.deletionTimestamp) await this.recordHistory(ds, hash, byNode);
    if (this.expectations.satisfied(key) && !ds.metadata?.deletionTimestamp) await this.manage(ds, nodes, byNode, hash);
    await this.updateStatus(ds, nodes, byNode, hash);
  }

  /**
   * Records the template as a ControllerRevision (DS-HASH, the hash its pods are labelled with), as
   * Kubernetes does, so `kubectl rollout history ds` lists the templates and `undo` brings one back;
   * keeps revisionHistoryLimit (10) old ones besides those live pods run.
   */
  private async recordHistory(ds: DaemonSet, hash: string, byNode: Map<string, Pod[]>): Promise<void> {
    const ns = ds.metadata?.namespace;
    const owned = this.revisions.list().filter((r) => r.metadata?.namespace === ns && controllerRef(r)?.uid === ds.metadata?.uid).sort((a, b) => a.revision - b.revision);
    const { update, all } = await ensureRevision(this.ctx.client, ds, 'DaemonSet', owned, hash);
    const live = new Set([update.metadata?.name, ...[...byNode.values()].flat().map((p) => `${ds.metadata?.name}-${p.metadata?.labels?.[REVISION_LABEL]}`)]);
    await trimRevisions(this.ctx.client, all, live, ds.spec?.revisionHistoryLimit ?? 10);
  }

  private podsByNode(ds: DaemonSet): Map<string, Pod[]> {
    const out = new Map<string, Pod[]>();
    for (const pod of this.podIndex.ownedBy(ds.metadata?.uid ?? '')) {
      if (controllerRef(pod)?.uid !== ds.metadata?.uid) continue;
      const node = pod.spec?.nodeName ?? pinnedNodeName(pod) ?? '';
      out.set(node, [...(out.get(node) ?? []), pod]);
    }
    return out;
  }

  private async manage(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string): Promise<void> {
    const create: string[] = [];
    const remove: Pod[] = [];
    const known = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      const pods = byNode.get(name) ?? [];
      const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
      const placement = daemonPlacement(ds, node);
      if (!placement.shouldContinue) {
        remove.push(...live);
        continue;
      }
      const failed = live.filter(isPodTerminal);
      remove.push(...failed);
      const running = live.filter((p) => !isPodTerminal(p));
      // Wait for a terminating pod to go before placing its successor (host ports, volumes).
      const terminating = pods.some((p) => p.metadata?.deletionTimestamp && !isPodTerminal(p));
      if (running.length === 0 && !terminating && placement.shouldRun) create.push(name);
      else if (running.length > 1) remove.push(...running.sort(byAge).slice(1));
    }
    for (const [node, pods] of byNode) if (!known.has(node)) remove.push(...pods.filter((p) => !p.metadata?.deletionTimestamp));
    remove.push(...this.rollingUpdateVictims(ds, nodes, byNode, hash, new Set(remove)));
    await Promise.all([...create.map((n) => this.createPod(ds, n, hash)), ...remove.map((p) => this.deletePod(ds, p))]);
  }

  /** Old-template pods to replace now, keeping at most maxUnavailable nodes without an available pod. */
  private rollingUpdateVictims(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, already: Set<Pod>): Pod[] {
    if (ds.spec?.updateStrategy?.type === 'OnDelete') return [];
    const wanted = nodes.filter((n) => shouldRunOn(ds, n));
    const maxUnavailable = Math.max(1, resolveIntOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, wanted.length, true, '1'));
    const now = Date.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    let unavailable = 0;
    const oldAvailable: Pod[] = [];
    const oldUnavailable: Pod[] = [];
    for (const node of wanted) {
      const pod = (byNode.get(node.metadata?.name ?? '') ?? []).find((p) => !p.metadata?.deletionTimestamp && !isPodTerminal(p) && !already.has(p));
      const avail = pod !== undefined && isPodAvailable(pod, minReady, now);
      if (!avail) unavailable++;
      if (pod && pod.metadata?.labels?.[REVISION_LABEL] !== hash) (avail ? oldAvailable : oldUnavailable).push(pod);
    }
    return [...oldUnavailable, ...oldAvailable.slice(0, Math.max(0, maxUnavailable - unavailable))];
  }

  private async createPod(ds: DaemonSet, node: string, hash: string): Promise<void> {
    const template = ds.spec?.template ?? {};
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: generateName(ds.metadata?.name ?? 'daemon'),
        namespace: ds.metadata?.namespace,
        labels: { ...(template.metadata?.labels ?? {}), [REVISION_LABEL]: hash },
        annotations: template.metadata?.annotations,
        ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
      },
      spec: {
        ...(template.spec ?? { containers: [] }),
        tolerations: daemonTolerations(ds),
        // Pinned through affinity, as upstream, so the scheduler still checks resources and ports.
        affinity: {
          ...(template.spec?.affinity ?? {}),
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } },
        },
      },
    };
    this.expectations.expectCreations(objectKey(ds), [pod.metadata?.name ?? '']);
    try {
      await this.ctx.client.create(core('pods', ds.metadata?.namespace), pod);
      this.recorder.record(objectRef(ds, 'DaemonSet', 'apps/v1'), 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name}`);
    } catch (err) {
      this.expectations.creationObserved(objectKey(ds), pod.metadata?.name ?? '');
      this.recorder.record(objectRef(ds, 'DaemonSet', 'apps/v1'), 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
      throw err;
    }
  }

  private async deletePod(ds: DaemonSet, pod: Pod): Promise<void> {
    this.expectations.expectDeletions(objectKey(ds), [pod.metadata?.name ?? '']);
    try {
      await deleteObject(this.ctx.client, core('pods', pod.metadata?.namespace, pod.metadata?.name));
      this.recorder.record(objectRef(ds, 'DaemonSet', 'apps/v1'), 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
    } catch (err) {
      this.expectations.deletionObserved(objectKey(ds), pod.metadata?.name ?? '');
      if (!ApiError.isNotFound(err)) throw err;
    }
  }

  private async updateStatus(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string): Promise<void> {
    const now = Date.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const s: DaemonSetStatus = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 0, updatedNumberScheduled: 0, observedGeneration: ds.metadata?.generation };
    let wait: number | undefined;
    for (const node of nodes) {
      const pods = (byNode.get(node.metadata?.name ?? '') ?? []).filter((p) => !p.metadata?.deletionTimestamp && !isPodTerminal(p));
      const should = shouldRunOn(ds, node);
      if (should) s.desiredNumberScheduled++;
      if (pods.length === 0) continue;
      if (!should) {
        s.numberMisscheduled++;
        continue;
      }
      s.currentNumberScheduled++;
      const pod = pods[0];
      if (isPodReady(pod)) s.numberReady = (s.numberReady ?? 0) + 1;
      if (isPodAvailable(pod, minReady, now)) s.numberAvailable = (s.numberAvailable ?? 0) + 1;
      const left = msUntilAvailable(pod, minReady, now);
      if (left !== undefined) wait = Math.min(wait ?? left, left);
      if (pod.metadata?.labels?.[REVISION_LABEL] === hash) s.updatedNumberScheduled = (s.updatedNumberScheduled ?? 0) + 1;
    }
    s.numberUnavailable = s.desiredNumberScheduled - (s.numberAvailable ?? 0);
    if (wait !== undefined) this.queue.addAfter(objectKey(ds), wait + 50);
    const cur: Partial<DaemonSetStatus> = ds.status ?? {};
    if ((Object.keys(s) as (keyof DaemonSetStatus)[]).every((k) => (cur[k] ?? 0) === (s[k] ?? 0))) return;
    try {
      await this.ctx.client.patch(apps('daemonsets', ds.metadata?.namespace, ds.metadata?.name, 'status'), 'merge', { status: s });
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
  }
}

function byAge(a: Pod, b: Pod): number {
  return Date.parse(a.metadata?.creationTimestamp ?? '') - Date.parse(b.metadata?.creationTimestamp ?? '');
}

function sameForDaemons(a: Node, b: Node): boolean {
  return JSON.stringify([a.metadata?.labels, a.spec?.taints]) === JSON.stringify([b.metadata?.labels, b.spec?.taints]);
}
