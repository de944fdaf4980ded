import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1';

/** nodeSelector and required node affinity, shared by the scheduler and the DaemonSet controller. */

export function matchesNodeSelectorAndAffinity(pod: Pod, node: Node): boolean {
  const selector = pod.spec?.nodeSelector;
  if (selector) {
    // Runs for hundreds of nodes per pod: no per-node allocation for the common empty selector.
    const labels = node.metadata?.labels ?? {};
    for (const k of Object.keys(selector)) if (labels[k] !== selector[k]) return false;
  }
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  // Terms are ORed; an empty term matches nothing, as in Kubernetes.
  return terms.some((term) => matchesTerm(term, node));
}

export function matchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  if (!exprs.every((r) => matchesRequirement(r, labels))) return false;
  return fields.every((r) => r.key === 'metadata.name' && matchesRequirement(r, { 'metadata.name': node.metadata?.name ?? '' }));
}

export function matchesRequirement(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(values[0], 10);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** A pod pinned to one node the way DaemonSet pods are (matchFields metadata.name), or undefined. */
export function pinnedNodeName(pod: Pod): string | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length !== 1) return undefined;
  const f = terms[0].matchFields ?? [];
  if (f.length === 1 && f[0].key === 'metadata.name' && f[0].operator === 'In' && f[0].values?.length === 1) return f[0].values[0];
  return undefined;
}
