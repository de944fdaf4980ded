/**
 * The FailedScheduling message in upstream's wording:
 * "0/3 nodes are available: 2 Insufficient memory, 1 node(s) had untolerated taint {k: v}."
 * Reasons are counted over nodes (a node short of cpu and memory counts for both) and sorted.
 */
export function failureMessage(totalNodes: number, reasonsPerNode: ReadonlyMap<string, readonly string[]>): string {
  if (totalNodes === 0) return 'no nodes available to schedule pods';
  const counts = new Map<string, number>();
  for (const reasons of reasonsPerNode.values()) {
    for (const r of new Set(reasons)) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${totalNodes} nodes are available: ${parts.join(', ')}.`;
}
