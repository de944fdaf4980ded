import type { Lease } from 'kubernetes-types/coordination/v1';
import { ApiError } from '../../kube/api-error';
import type { KubeClient } from '../../kube/client';
import type { ResourceRef } from '../../kube/resource-path';

export const LEASE_NAMESPACE = 'kube-node-lease';

export interface LeaseRenewerOptions {
  /** Renew every (default 10 s). */
  intervalMs?: number;
  /** Lease duration written into the Lease (default 40 s). */
  durationSeconds?: number;
  /** UID of the Node, so the Lease goes with it. */
  nodeUid?: string;
  onError?: (err: Error) => void;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * The node's heartbeat: a Lease in kube-node-lease renewed every 10 s. A failed renewal is retried
 * quickly (200 ms doubling, never past the interval) so a short master outage costs no freshness.
 */
export class LeaseRenewer {
  private timer?: NodeJS.Timeout;
  private lease?: Lease;
  private stopped = false;
  lastRenewed = 0;

  constructor(private readonly client: KubeClient, private readonly nodeName: string, private readonly o: LeaseRenewerOptions = {}) {}

  private get ref(): ResourceRef {
    return { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: LEASE_NAMESPACE };
  }

  start(): void {
    void this.tick(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(failures: number): Promise<void> {
    if (this.stopped) return;
    const interval = this.o.intervalMs ?? 10_000;
    let next = interval;
    try {
      await this.renew();
      failures = 0;
    } catch (err) {
      failures++;
      next = Math.min(200 * 2 ** (failures - 1), interval);
      this.o.onError?.(new Error(`renewing lease of node ${this.nodeName} failed (retry in ${next} ms): ${(err as Error).message}`));
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(failures), next);
    this.timer.unref();
  }

  /** One renewal: update the cached Lease, re-read it on conflict, create it when missing. */
  async renew(depth = 0): Promise<void> {
    const now = microTime();
    if (this.lease) {
      try {
        this.lease = await this.client.update<Lease>({ ...this.ref, name: this.nodeName }, { ...this.lease, spec: { ...this.lease.spec, holderIdentity: this.nodeName, leaseDurationSeconds: this.o.durationSeconds ?? 40, renewTime: now } } as Lease);
        this.lastRenewed = Date.now();
        return;
      } catch (err) {
        if (!ApiError.isConflict(err) && !ApiError.isNotFound(err)) throw err;
        this.lease = undefined;
      }
    }
    try {
      this.lease = await this.client.get<Lease>({ ...this.ref, name: this.nodeName });
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
      this.lease = await this.client.create<Lease>(this.ref, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: this.nodeName,
          namespace: LEASE_NAMESPACE,
          ...(this.o.nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: this.o.nodeUid }] } : {}),
        },
        spec: { holderIdentity: this.nodeName, leaseDurationSeconds: this.o.durationSeconds ?? 40, renewTime: now },
      } as Lease);
      this.lastRenewed = Date.now();
      return;
    }
    if (depth > 2) throw new Error('lease keeps changing under us (conflicts); will retry');
    return this.renew(depth + 1);
  }
}
