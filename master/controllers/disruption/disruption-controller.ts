import type { ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1';
import { Selector } from '../../../kube/label-selector';
import { objectKey } from '../../../kube/object';
import { isPodTerminal } from '../../../kube/pod-conditions';
import { apps, core, type ResourceRef } from '../../../kube/resource-path';
import type { InformerLike, ObjectIndex } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { controllerRef } from '../owner-references';
import { QueueController } from '../queue-controller';
import { budgetCounts, budgetStatus } from './disruption-budget';

const pdbRef: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
/** An eviction the budget counted but whose pod has not been seen deleted is forgotten after this long, as upstream. */
const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

/**
 * Keeps every PodDisruptionBudget's status current (expected, desired and current healthy pods,
 * disruptionsAllowed), which the eviction API reads to allow or refuse an eviction (kubectl drain).
 */
export class DisruptionController extends QueueController {
  readonly name = 'disruption-controller';
  private readonly budgets: InformerLike<PodDisruptionBudget>;
  private readonly podIndex: ObjectIndex<Pod>;
  private readonly replicaSets: InformerLike<ReplicaSet>;
  private readonly statefulSets: InformerLike<StatefulSet>;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'disruption budget sync failed', keyField: 'pdb', baseDelayMs: 200, maxDelayMs: 10_000 });
    this.budgets = ctx.informers.get<PodDisruptionBudget>(pdbRef);
    this.podIndex = ctx.informers.index<Pod>(core('pods'));
    this.replicaSets = ctx.informers.get<ReplicaSet>(apps('replicasets'));
    this.statefulSets = ctx.informers.get<StatefulSet>(apps('statefulsets'));
    this.budgets.on((_type, pdb) => this.queue.add(objectKey(pdb)));
    ctx.informers.get<Pod>(core('pods')).on((_type, pod, old) => {
      for (const p of [pod, old]) if (p) for (const b of this.budgetsOf(p)) this.queue.add(objectKey(b));
    });
    const scaled = (_type: string, obj: ReplicaSet | StatefulSet): void => {
      for (const b of this.budgets.list()) if (b.metadata?.namespace === obj.metadata?.namespace) this.queue.add(objectKey(b));
    };
    this.replicaSets.on(scaled);
    this.statefulSets.on(scaled);
  }

  private budgetsOf(pod: Pod): PodDisruptionBudget[] {
    return this.budgets.list().filter((b) => b.metadata?.namespace === pod.metadata?.namespace && Selector.fromLabelSelector(b.spec?.selector).matches(pod.metadata?.labels));
  }

  protected async sync(key: string): Promise<void> {
    const pdb = this.budgets.get(key);
    if (!pdb || pdb.metadata?.deletionTimestamp) return;
    const selector = Selector.fromLabelSelector(pdb.spec?.selector);
    // In policy/v1 an empty selector ({}) selects every pod of the namespace.
    const pods = this.podIndex.inNamespace(pdb.metadata?.namespace ?? '').filter((p) => selector.matches(p.metadata?.labels) && !isPodTerminal(p));
    const counts = budgetCounts(pdb, pods, this.controllerScale(pods));
    const now = Date.now();
    const live = new Set(pods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name));
    const disrupted = Object.fromEntries(Object.entries(pdb.status?.disruptedPods ?? {}).filter(([name, at]) => live.has(name) && now - Date.parse(at) < DISRUPTED_POD_TIMEOUT_MS));
    const status = budgetStatus(pdb, counts, disrupted, new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const before: Partial<PodDisruptionBudgetStatus> = pdb.status ?? {};
    const same = before.observedGeneration === status.observedGeneration && before.expectedPods === status.expectedPods && before.desiredHealthy === status.desiredHealthy
      && before.currentHealthy === status.currentHealthy && before.disruptionsAllowed === status.disruptionsAllowed && JSON.stringify(before.disruptedPods ?? {}) === JSON.stringify(status.disruptedPods ?? {});
    if (!same) await this.ctx.client.patch({ ...pdbRef, namespace: pdb.metadata?.namespace, name: pdb.metadata?.name, subresource: 'status' }, 'merge', { status: { ...status, disruptedPods: status.disruptedPods ?? null } });
    const pending = Object.values(disrupted).map((at) => DISRUPTED_POD_TIMEOUT_MS - (now - Date.parse(at)));
    if (pending.length) this.queue.addAfter(key, Math.max(1000, Math.min(...pending)));
  }

  /** The replicas the pods' controllers ask for (ReplicaSets and StatefulSets), or undefined when a pod has none of those. */
  private controllerScale(pods: Pod[]): number | undefined {
    const owners = new Map<string, number>();
    for (const p of pods) {
      const ref = controllerRef(p);
      const ns = p.metadata?.namespace ?? '';
      if (ref?.kind === 'ReplicaSet') owners.set(`rs/${ref.uid}`, this.replicaSets.get(`${ns}/${ref.name}`)?.spec?.replicas ?? 1);
      else if (ref?.kind === 'StatefulSet') owners.set(`sts/${ref.uid}`, this.statefulSets.get(`${ns}/${ref.name}`)?.spec?.replicas ?? 1);
      else return undefined;
    }
    return [...owners.values()].reduce((a, b) => a + b, 0);
  }
}
