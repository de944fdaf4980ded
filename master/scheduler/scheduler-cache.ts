import type { Node, Pod } from 'kubernetes-types/core/v1';
import { objectKey } from '../../kube/object';
import { NodeInfo } from './node-info';

/**
 * Nodes and the pods placed on them, including pods the scheduler has "assumed" onto a node
 * while their binding is still in flight. Assuming lets the next pod be placed at once against
 * up-to-date sums instead of waiting for the binding to come back through the watch.
 */
export class SchedulerCache {
  readonly nodes = new Map<string, NodeInfo>();
  /** pod key → node name, for every pod counted on some node (bound or assumed). */
  private readonly podNode = new Map<string, string>();
  /** Pods counted on nodes that do not exist (yet), so the sums are right when the node appears. */
  private readonly orphanPods = new Map<string, Pod>();
  private readonly assumed = new Map<string, { node: string; pod: Pod }>();
  /** A stable array for round-robin sampling, rebuilt lazily when nodes come and go. */
  private nodeList: NodeInfo[] | undefined;

  setNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const existing = this.nodes.get(name);
    if (existing) {
      existing.setNode(node);
      return;
    }
    const info = new NodeInfo(node);
    this.nodes.set(name, info);
    this.nodeList = undefined;
    for (const [key, pod] of this.orphanPods) {
      if (pod.spec?.nodeName === name) {
        info.addPod(pod);
        this.orphanPods.delete(key);
      }
    }
  }

  /** The node's pods stay known, so they count again if a node of that name comes back. */
  removeNode(name: string): void {
    const info = this.nodes.get(name);
    if (!info) return;
    for (const [key, pod] of info.podEntries()) this.orphanPods.set(key, pod);
    this.nodes.delete(name);
    this.nodeList = undefined;
  }

  list(): NodeInfo[] {
    this.nodeList ??= [...this.nodes.values()];
    return this.nodeList;
  }

  /** A pod seen on the watch. Pods that are bound count on their node; an assumed pod is confirmed. */
  updatePod(pod: Pod): void {
    const key = objectKey(pod);
    const node = pod.spec?.nodeName;
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (!node || terminal) {
      // Unbound pods are not placed unless this scheduler assumed them; terminal ones free their room.
      if (terminal || !this.assumed.has(key)) this.removePod(key);
      return;
    }
    this.assumed.delete(key);
    this.place(key, node, pod);
  }

  removePod(key: string): void {
    this.assumed.delete(key);
    this.orphanPods.delete(key);
    const node = this.podNode.get(key);
    if (node === undefined) return;
    this.podNode.delete(key);
    this.nodes.get(node)?.removePod(key);
  }

  assume(pod: Pod, node: string): void {
    const key = objectKey(pod);
    this.assumed.set(key, { node, pod });
    this.place(key, node, pod);
  }

  /** The binding failed: give the room back. */
  forget(pod: Pod): void {
    const key = objectKey(pod);
    if (!this.assumed.has(key)) return;
    this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  nodeOf(key: string): string | undefined {
    return this.podNode.get(key);
  }

  private place(key: string, node: string, pod: Pod): void {
    const prev = this.podNode.get(key);
    if (prev !== undefined && prev !== node) this.nodes.get(prev)?.removePod(key);
    this.podNode.set(key, node);
    const info = this.nodes.get(node);
    if (info) info.addPod(pod);
    else this.orphanPods.set(key, pod);
  }
}
