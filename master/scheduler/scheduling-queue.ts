import type { Pod } from 'kubernetes-types/core/v1';
import { objectKey } from '../../kube/object';

/**
 * Pods waiting for a node. Active pods are tried in arrival order; pods that fit nowhere park in
 * the unschedulable set until something that could change the answer happens (a node appears or
 * changes, a pod goes away), and only then move back: no busy polling.
 */
export class SchedulingQueue {
  private readonly active = new Map<string, Pod>();
  private readonly unschedulable = new Map<string, Pod>();
  /** Pods being scheduled right now: an update for one of them is kept for after the attempt. */
  private readonly inFlight = new Set<string>();
  /** Bumped on every event that may free room, so an attempt that raced with one is retried. */
  private moveCycle = 0;
  private waiter: (() => void) | undefined;

  get length(): number {
    return this.active.size;
  }

  get unschedulableCount(): number {
    return this.unschedulable.size;
  }

  /** A pending pod was added or changed. */
  add(pod: Pod): void {
    const key = objectKey(pod);
    if (this.unschedulable.has(key)) {
      // Its spec may have changed (tolerations, selector): try again now.
      this.unschedulable.delete(key);
    }
    this.active.set(key, pod);
    this.wake();
  }

  remove(key: string): void {
    this.active.delete(key);
    this.unschedulable.delete(key);
  }

  has(key: string): boolean {
    return this.active.has(key) || this.unschedulable.has(key);
  }

  /** Takes up to `max` pods; the caller reports each back with done() or unschedulable(). */
  popBatch(max: number): { pods: Pod[]; cycle: number } {
    const pods: Pod[] = [];
    for (const [key, pod] of this.active) {
      if (pods.length >= max) break;
      this.active.delete(key);
      this.inFlight.add(key);
      pods.push(pod);
    }
    return { pods, cycle: this.moveCycle };
  }

  done(key: string): void {
    this.inFlight.delete(key);
  }

  /** The pod fits nowhere. If the cluster changed while it was being tried, it goes straight back. */
  markUnschedulable(pod: Pod, cycle: number): void {
    const key = objectKey(pod);
    this.inFlight.delete(key);
    if (this.active.has(key)) return;
    if (cycle !== this.moveCycle) this.active.set(key, pod);
    else this.unschedulable.set(key, pod);
  }

  /** Something changed that may make parked pods fit: move them all back to active. */
  moveAllToActive(): void {
    this.moveCycle++;
    if (this.unschedulable.size === 0) return;
    for (const [key, pod] of this.unschedulable) this.active.set(key, pod);
    this.unschedulable.clear();
    this.wake();
  }

  /** Resolves when there is something to do (or immediately if there already is). */
  wait(): Promise<void> {
    if (this.active.size > 0) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Unblocks a pending wait() without work (used on shutdown). */
  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
