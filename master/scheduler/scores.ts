import type { PodFacts } from './filters';
import type { NodeInfo } from './node-info';

export const MAX_SCORE = 100;

/** Prefers the node with the most room left after placing the pod (upstream NodeResourcesFit LeastAllocated). */
export function leastAllocatedScore(facts: PodFacts, node: NodeInfo): number {
  const part = (req: number, cap: number): number => (cap <= 0 ? 0 : Math.max(0, ((cap - req) * MAX_SCORE) / cap));
  const cpu = part(node.scoreRequested.cpu + facts.scoreRequests.cpu, node.allocatable.cpu);
  const mem = part(node.scoreRequested.memory + facts.scoreRequests.memory, node.allocatable.memory);
  return (cpu + mem) / 2;
}

/** Prefers nodes whose cpu and memory use stay in proportion (upstream NodeResourcesBalancedAllocation). */
export function balancedAllocationScore(facts: PodFacts, node: NodeInfo): number {
  const frac = (req: number, cap: number): number => (cap <= 0 ? 1 : Math.min(1, req / cap));
  const cpu = frac(node.scoreRequested.cpu + facts.scoreRequests.cpu, node.allocatable.cpu);
  const mem = frac(node.scoreRequested.memory + facts.scoreRequests.memory, node.allocatable.memory);
  // Standard deviation of the two fractions is |cpu - mem| / 2.
  return (1 - Math.abs(cpu - mem) / 2) * MAX_SCORE;
}

/**
 * Spreads the pods of one controller across hostnames: the fewer siblings a node already has,
 * the higher its score, normalised against the busiest candidate (upstream's default
 * PodTopologySpread on kubernetes.io/hostname). Nodes are hostnames here, one per node.
 */
export function spreadScores(facts: PodFacts, nodes: NodeInfo[]): number[] {
  if (!facts.owner) return nodes.map(() => MAX_SCORE);
  const counts = nodes.map((n) => n.ownerCounts.get(facts.owner as string) ?? 0);
  const max = Math.max(0, ...counts);
  if (max === 0) return nodes.map(() => MAX_SCORE);
  return counts.map((c) => ((max - c) * MAX_SCORE) / max);
}

/** Weights as upstream's default profile: spreading counts twice. */
export const SCORE_WEIGHTS = { leastAllocated: 1, balanced: 1, spread: 2 };

/** Total score per node, same order as `nodes`. */
export function scoreNodes(facts: PodFacts, nodes: NodeInfo[]): number[] {
  const spread = spreadScores(facts, nodes);
  return nodes.map(
    (n, i) =>
      SCORE_WEIGHTS.leastAllocated * leastAllocatedScore(facts, n) +
      SCORE_WEIGHTS.balanced * balancedAllocationScore(facts, n) +
      SCORE_WEIGHTS.spread * spread[i],
  );
}
