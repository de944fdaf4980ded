import type { NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1';
import type { NodeInfo } from './node-info';
import { matchesNodeSelectorAndAffinity, matchesTerm } from './node-affinity';
import { hostPortsConflict, type Resources } from './pod-requests';
import { firstUntoleratedTaint, formatTaint } from './taints';

/** What the scheduler knows about the pod being placed, computed once per scheduling attempt. */
export interface PodFacts {
  pod: Pod;
  requests: Resources;
  scoreRequests: Resources;
  hostPorts: string[];
  owner?: string;
  /** The node affinity of each bound PersistentVolume the pod's claims use (a local volume lives on one node). */
  volumeAffinities?: NodeSelectorTerm[][];
}

/** A filter answers the reasons a node cannot take the pod, or FITS when it can. */
export type Filter = (facts: PodFacts, node: NodeInfo) => readonly string[];

/**
 * The answer of a node that fits: one shared empty list, as filters run for hundreds of nodes
 * per pod (a fresh `[]` per filter and node was among the master's largest allocators).
 */
export const FITS: readonly string[] = Object.freeze([]);

export const nodeNameFilter: Filter = ({ pod }, node) =>
  pod.spec?.nodeName && pod.spec.nodeName !== node.name ? ["node(s) didn't match the requested node name"] : FITS;

export const taintFilter: Filter = ({ pod }, node) => {
  const t = firstUntoleratedTaint(node.taints, pod);
  return t ? [`node(s) had untolerated taint ${formatTaint(t)}`] : FITS;
};

export const affinityFilter: Filter = ({ pod }, node) =>
  matchesNodeSelectorAndAffinity(pod, node.node) ? FITS : ["node(s) didn't match Pod's node affinity/selector"];

export const hostPortFilter: Filter = ({ hostPorts }, node) => {
  if (hostPorts.length === 0 || node.hostPorts.size === 0) return FITS;
  for (const want of hostPorts) {
    for (const used of node.hostPorts.keys()) {
      if (hostPortsConflict(want, used)) return ["node(s) didn't have free ports for the requested pod ports"];
    }
  }
  return FITS;
};

export const volumeNodeFilter: Filter = ({ volumeAffinities }, node) =>
  !volumeAffinities || volumeAffinities.every((terms) => terms.some((t) => matchesTerm(t, node.node))) ? FITS : ['node(s) had volume node affinity conflict'];

/** Unlike the other filters it reports every shortage, so the message counts cpu and memory separately. */
export const resourcesFitFilter: Filter = ({ requests }, node) => {
  const pods = node.podCount + 1 > node.allocatable.pods;
  const cpu = requests.cpu > 0 && node.requested.cpu + requests.cpu > node.allocatable.cpu;
  const memory = requests.memory > 0 && node.requested.memory + requests.memory > node.allocatable.memory;
  if (!pods && !cpu && !memory) return FITS;
  const reasons: string[] = [];
  if (pods) reasons.push('Too many pods');
  if (cpu) reasons.push('Insufficient cpu');
  if (memory) reasons.push('Insufficient memory');
  return reasons;
};

/** In upstream's order: cheap, decisive checks first; the first filter that fails names the node's reasons. */
export const defaultFilters: Filter[] = [nodeNameFilter, taintFilter, affinityFilter, volumeNodeFilter, hostPortFilter, resourcesFitFilter];

export function runFilters(facts: PodFacts, node: NodeInfo, filters: Filter[] = defaultFilters): readonly string[] {
  for (const f of filters) {
    const reasons = f(facts, node);
    if (reasons.length > 0) return reasons;
  }
  return FITS;
}
