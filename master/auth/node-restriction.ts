import { isDeepStrictEqual } from 'node:util';
import type { Identity } from './identity';

/** The part of an object NodeRestriction reads; structurally what the API layer passes. */
interface Written {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; ownerReferences?: unknown[] };
  spec?: unknown;
}

interface Target {
  kind: string;
}

/** A refusal in Kubernetes' words; the API layer turns it into a 403. */
export class NodeRestrictionError extends Error {
  constructor(readonly node: string, reason: string) {
    super(reason);
    this.name = 'NodeRestrictionError';
  }
}

/** Labels a kubelet sets on its own Node (Kubernetes' kubelet label list). */
const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'node.kubernetes.io/instance-type',
  'beta.kubernetes.io/instance-type',
]);
/** Label namespaces (and their subdomains) a kubelet may set freely. */
const kubeletNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

/**
 * Kubernetes' NodeRestriction admission for writes a node makes, after the node authorizer let
 * them through (it decides which objects; this decides which changes):
 * - pods (status writes and deletes only): only pods bound to the node, with no change to labels,
 *   annotations, finalizers or owner references, so a node cannot pull a Service's traffic to its
 *   pods or keep them alive;
 * - its Node: only the labels a kubelet sets (never node-role.kubernetes.io/* nor
 *   node-restriction.kubernetes.io/*, nor other kubernetes.io/k8s.io labels), no taint changes,
 *   no configSource;
 * - Leases: created by the node's own name, not generateName.
 */
export function checkNodeWrite(who: Identity, r: Target, obj: Written, old: Written | undefined): void {
  if (who.role !== 'node' || !who.nodeName) return;
  const node = who.nodeName;
  switch (r.kind) {
    case 'Pod':
      if (old) checkPodOfNode(node, obj, old);
      return;
    case 'Node':
      checkNode(node, obj, old);
      return;
    case 'Lease':
      if (!old && obj.metadata?.name !== node) throw new NodeRestrictionError(node, `can only create the node lease named after the requesting node ("${node}"), not with generateName or another name`);
      return;
  }
}

/**
 * old is the pod as the store holds it at the write (a write decided on a stale copy is
 * conditional on that copy's revision, and decided again on the stored pod when it fails), so a
 * pod deleted and made again on another node meanwhile is refused.
 */
function checkPodOfNode(node: string, obj: Written, old: Written): void {
  if ((old.spec as { nodeName?: string } | undefined)?.nodeName !== node) throw new NodeRestrictionError(node, `the pod is not bound to node ${node}`);
  for (const field of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) {
    if (!isDeepStrictEqual(obj.metadata?.[field] ?? emptyOf(field), old.metadata?.[field] ?? emptyOf(field))) {
      throw new NodeRestrictionError(node, `node "${node}" cannot update ${field} through pod status: a node changes a pod's status only`);
    }
  }
}

function checkNode(node: string, obj: Written, old: Written | undefined): void {
  const spec = (obj.spec ?? {}) as { configSource?: unknown; taints?: unknown[] };
  const oldSpec = (old?.spec ?? {}) as { configSource?: unknown; taints?: unknown[] };
  if (spec.configSource !== undefined && spec.configSource !== null && !isDeepStrictEqual(spec.configSource, oldSpec.configSource)) {
    throw new NodeRestrictionError(node, `node "${node}" is not allowed to set a configSource`);
  }
  if (old && !isDeepStrictEqual(spec.taints ?? [], oldSpec.taints ?? [])) {
    throw new NodeRestrictionError(node, `node "${node}" is not allowed to modify taints (an administrator may: kubectl taint nodes ${node} ...)`);
  }
  const forbidden = modifiedLabels(obj.metadata?.labels ?? {}, old?.metadata?.labels ?? {}).filter(forbiddenForKubelet);
  if (forbidden.length > 0) {
    throw new NodeRestrictionError(node, `node "${node}" is not allowed to ${old ? 'modify' : 'set'} the labels ${forbidden.join(', ')} (only kubelet labels; an administrator sets the others with kubectl label)`);
  }
}

function modifiedLabels(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

function forbiddenForKubelet(label: string): boolean {
  const slash = label.indexOf('/');
  const ns = slash < 0 ? '' : label.slice(0, slash);
  if (within(ns, 'node-restriction.kubernetes.io')) return true;
  const kubernetes = within(ns, 'kubernetes.io') || within(ns, 'k8s.io');
  return kubernetes && !kubeletLabels.has(label) && !kubeletNamespaces.some((k) => within(ns, k));
}

/** The namespace is `domain` or one of its subdomains. */
function within(ns: string, domain: string): boolean {
  return ns === domain || ns.endsWith(`.${domain}`);
}

function emptyOf(field: string): unknown {
  return field === 'labels' || field === 'annotations' ? {} : [];
}
