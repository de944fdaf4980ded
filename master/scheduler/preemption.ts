import type { Pod } from 'kubernetes-types/core/v1';
import { resourcesFitFilter, type PodFacts } from './filters';
import { NodeInfo } from './node-info';

/** The node a pod that fits nowhere would fit on once `victims` are gone. */
export interface PreemptionPlan {
  node: string;
  victims: Pod[];
}

/** Failures that removing pods can cure; a taint, an affinity or a volume elsewhere cannot be. */
const RESOLVABLE = new Set(['Too many pods', 'Insufficient cpu', 'Insufficient memory']);

export const priorityOf = (pod: Pod): number => pod.spec?.priority ?? 0;

/**
 * Whether the pod may preempt now, as upstream's PodEligibleToPreemptOthers: not with
 * `preemptionPolicy: Never`, and not while lower-priority pods on the node it was nominated for are
 * still terminating (it already made room there; preempting again would take more than needed).
 */
export function mayPreempt(pod: Pod, nodes: ReadonlyMap<string, NodeInfo>): boolean {
  if (pod.spec?.preemptionPolicy === 'Never') return false;
  const nominated = pod.status?.nominatedNodeName;
  const node = nominated ? nodes.get(nominated) : undefined;
  if (!node) return true;
  return !node.podEntries().some(([, p]) => p.metadata?.deletionTimestamp && priorityOf(p) < priorityOf(pod));
}

/**
 * The cheapest way to make room for the pod, as Kubernetes' DefaultPreemption chooses it: on each
 * node that failed only for lack of resources, remove every lower-priority pod, check the pod
 * fits, then give pods back from the highest priority down while it still fits; of the nodes that
 * work, the one whose most important victim has the lowest priority, then the lowest sum of
 * priorities, then the fewest victims. Undefined when no node can be freed.
 */
export function planPreemption(facts: PodFacts, nodes: readonly NodeInfo[], reasons: ReadonlyMap<string, readonly string[]>): PreemptionPlan | undefined {
  const priority = priorityOf(facts.pod);
  let best: { plan: PreemptionPlan; score: [number, number, number] } | undefined;
  for (const node of nodes) {
    const why = reasons.get(node.name);
    if (!why || !why.every((r) => RESOLVABLE.has(r))) continue;
    const victims = selectVictims(facts, node, priority);
    if (!victims) continue;
    const score: [number, number, number] = [Math.max(...victims.map(priorityOf)), victims.reduce((s, v) => s + priorityOf(v), 0), victims.length];
    if (!best || lexicallyLess(score, best.score)) best = { plan: { node: node.name, victims }, score };
  }
  return best?.plan;
}

function selectVictims(facts: PodFacts, node: NodeInfo, priority: number): Pod[] | undefined {
  const pods = node.podEntries().map(([, p]) => p).filter((p) => !p.metadata?.deletionTimestamp);
  const lower = pods.filter((p) => priorityOf(p) < priority);
  if (lower.length === 0) return undefined;
  const trial = new NodeInfo(node.node);
  for (const p of pods) if (priorityOf(p) >= priority) trial.addPod(p);
  if (resourcesFitFilter(facts, trial).length > 0) return undefined;
  // Reprieve the most important first, so the victims are the least important that must go.
  const byImportance = [...lower].sort((a, b) => priorityOf(b) - priorityOf(a) || startOf(a) - startOf(b));
  const victims: Pod[] = [];
  for (const p of byImportance) {
    trial.addPod(p);
    if (resourcesFitFilter(facts, trial).length > 0) {
      trial.removePod(`${p.metadata?.namespace}/${p.metadata?.name}`);
      victims.push(p);
    }
  }
  return victims.length ? victims : undefined;
}

const startOf = (p: Pod): number => Date.parse(p.status?.startTime ?? p.metadata?.creationTimestamp ?? '') || 0;

function lexicallyLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
