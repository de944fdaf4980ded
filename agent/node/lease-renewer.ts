import type { Lease } from 'kubernetes-types/coordination/v1';
import { ApiError } from '../../kube/api-error';
import type { KubeClient } from '../../kube/client';
import { Backoff, jittered } from '../../kube/backoff';
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
  /** Random in [0, 1) for the jitter (tests fix it). */
  random?: () => number;
}

/** The kubelet's jitter on its Lease renewal period (wait.JitterUntil's 0.04). */
const RENEW_JITTER = 0.04;

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * The node's heartbeat: a Lease in kube-node-lease renewed every 10 s, plus up to 4 % at random
 * as the kubelet's, so nodes started together drift apart. A failed renewal is retried quickly so
 * a short master outage costs no freshness: from 200 ms doubling, each wait drawn from [d, 2d)
 * and never past the interval, so that the nodes refused together do not retry together.
 */
export class LeaseRenewer {
  private timer?: NodeJS.Timeout;
  private lease?: Lease;
  private stopped = false;
  private readonly retry: Backoff;
  lastRenewed = 0;

  constructor(private readonly client: KubeClient, private readonly nodeName: string, private readonly o: LeaseRenewerOptions = {}) {
    const interval = o.intervalMs ?? 10_000;
    this.retry = new Backoff({ initialMs: Math.min(200, interval / 2), maxMs: interval / 2, random: o.random });
  }

  private get ref(): ResourceRef {
    return { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: LEASE_NAMESPACE };
  }

  start(): void {
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const interval = this.o.intervalMs ?? 10_000;
    let next: number;
    try {
      await this.renew();
      this.retry.reset();
      next = jittered(interval, RENEW_JITTER, this.o.random);
    } catch (err) {
      next = Math.min(this.retry.next(), interval);
      this.o.onError?.(new Error(`renewing lease of node ${this.nodeName} failed (retry in ${next} ms): ${(err as Error).message}`));
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), next);
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
