import type { Node, Pod } from 'kubernetes-types/core/v1';
import { cpuMillis, quantityInt } from '../../kube/quantity';
import { objectKey } from '../../kube/object';
import { podHostPorts, podRequests, podScoreRequests, type Resources } from './pod-requests';
import { effectiveTaints } from './taints';
import type { Taint } from 'kubernetes-types/core/v1';

/** The owner that spreading groups pods by: the controller's uid, else undefined. */
export function controllerUid(pod: Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid;
}

interface PodEntry {
  pod: Pod;
  requests: Resources;
  scoreRequests: Resources;
  ports: string[];
  owner?: string;
}

/**
 * One node with the sums of the pods placed on it, kept incrementally so that filtering and
 * scoring a pod against a node costs a handful of comparisons rather than a walk over its pods.
 */
export class NodeInfo {
  node: Node;
  allocatable: Resources & { pods: number } = { cpu: 0, memory: 0, pods: 0 };
  taints: Taint[] = [];
  readonly requested: Resources = { cpu: 0, memory: 0 };
  readonly scoreRequested: Resources = { cpu: 0, memory: 0 };
  readonly hostPorts = new Map<string, number>();
  readonly ownerCounts = new Map<string, number>();
  private readonly pods = new Map<string, PodEntry>();

  constructor(node: Node) {
    this.node = node;
    this.setNode(node);
  }

  get name(): string {
    return this.node.metadata?.name ?? '';
  }

  get podCount(): number {
    return this.pods.size;
  }

  setNode(node: Node): void {
    this.node = node;
    const a = node.status?.allocatable ?? node.status?.capacity ?? {};
    this.allocatable = { cpu: cpuMillis(a.cpu), memory: quantityInt(a.memory), pods: quantityInt(a.pods ?? '110') };
    this.taints = effectiveTaints(node);
  }

  /** The pods counted on this node, keyed namespace/name. */
  podEntries(): [string, Pod][] {
    return [...this.pods].map(([key, e]) => [key, e.pod]);
  }

  hasPod(key: string): boolean {
    return this.pods.has(key);
  }

  addPod(pod: Pod): void {
    const key = objectKey(pod);
    if (this.pods.has(key)) this.removePod(key);
    const e: PodEntry = { pod, requests: podRequests(pod), scoreRequests: podScoreRequests(pod), ports: podHostPorts(pod), owner: controllerUid(pod) };
    this.pods.set(key, e);
    this.requested.cpu += e.requests.cpu;
    this.requested.memory += e.requests.memory;
    this.scoreRequested.cpu += e.scoreRequests.cpu;
    this.scoreRequested.memory += e.scoreRequests.memory;
    for (const p of e.ports) this.hostPorts.set(p, (this.hostPorts.get(p) ?? 0) + 1);
    if (e.owner) this.ownerCounts.set(e.owner, (this.ownerCounts.get(e.owner) ?? 0) + 1);
  }

  removePod(key: string): void {
    const e = this.pods.get(key);
    if (!e) return;
    this.pods.delete(key);
    this.requested.cpu -= e.requests.cpu;
    this.requested.memory -= e.requests.memory;
    this.scoreRequested.cpu -= e.scoreRequests.cpu;
    this.scoreRequested.memory -= e.scoreRequests.memory;
    for (const p of e.ports) decrement(this.hostPorts, p);
    if (e.owner) decrement(this.ownerCounts, e.owner);
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
