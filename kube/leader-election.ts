import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1';
import type { KubeClient } from './client';
import { ApiError } from './api-error';
import { jittered } from './backoff';
import type { ResourceRef } from './resource-path';
import type { Log } from './log';

export interface LeaderElectionOptions {
  client: KubeClient;
  identity: string;
  namespace?: string;
  name?: string;
  /**
   * How long a holder's claim lasts after its last renewal, as seen by the others (default 10 s:
   * upstream's 15 s puts a take-over after a master loses power at 15–19 s, past the 15 s that
   * issue 21 allows; 10 s gives 10–14 s, still five renewals per lease).
   */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long steps down (default 7 s, before any standby may take over). */
  renewDeadlineMs?: number;
  /** Pause between attempts (default 2 s). */
  retryPeriodMs?: number;
  /** Hand the lease over on stop() (default true, as client-go's ReleaseOnCancel); false behaves like a crash. */
  releaseOnStop?: boolean;
  onStartedLeading: () => Promise<void> | void;
  onStoppedLeading: () => Promise<void> | void;
  log?: Log;
}

/** MicroTime as the API writes it: RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const DEFAULT_LEASE_DURATION_MS = 10_000;
export const DEFAULT_RENEW_DEADLINE_MS = 7_000;

const leases = (namespace: string, name?: string): ResourceRef => ({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace, name });

/**
 * Leader election over a coordination.k8s.io Lease, as client-go's leaderelection: one holder
 * renews the lease; the others take over once they have seen it unchanged for a lease duration
 * (measured on their own clock, so clock skew between masters does not matter). A leader that
 * stops cleanly releases the lease so a standby takes over at once.
 */
export class LeaderElector {
  private readonly ns: string;
  private readonly name: string;
  private readonly durationMs: number;
  private leader = false;
  private stopped = false;
  private observed: { holder?: string; renew?: string; at: number } = { at: 0 };
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.ns = opts.namespace ?? 'kube-system';
    this.name = opts.name ?? 'lotse-controller-manager';
    this.durationMs = opts.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
  }

  isLeader(): boolean {
    return this.leader;
  }

  run(): void {
    this.loop = this.runLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leader) {
      this.leader = false;
      await this.opts.onStoppedLeading();
      if (this.opts.releaseOnStop !== false) await this.release();
    }
  }

  private async runLoop(): Promise<void> {
    const retry = this.opts.retryPeriodMs ?? 2000;
    const deadline = this.opts.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    let lastRenew = 0;
    while (!this.stopped) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        this.opts.log?.('leader election: lease update failed', { lease: `${this.ns}/${this.name}`, error: (err as Error).message });
      }
      if (this.stopped) break;
      if (ok) {
        lastRenew = Date.now();
        if (!this.leader) {
          this.leader = true;
          this.opts.log?.('leader election: became leader', { identity: this.opts.identity });
          await this.opts.onStartedLeading();
        }
      } else if (this.leader && Date.now() - lastRenew > deadline) {
        this.leader = false;
        this.opts.log?.('leader election: lost the lease, stopping controllers', { identity: this.opts.identity });
        await this.opts.onStoppedLeading();
      }
      // Candidates add jitter so two of them do not collide on every attempt.
      await this.sleep(this.leader ? retry : jittered(retry, 0.2));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private spec(prev: LeaseSpec | undefined, now: Date): LeaseSpec {
    const same = prev?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.durationMs / 1000)),
      acquireTime: same && prev?.acquireTime ? prev.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (prev?.leaseTransitions ?? 0) + (same || !prev?.holderIdentity ? 0 : 1),
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let lease: Lease;
    try {
      lease = await this.opts.client.get<Lease>(leases(this.ns, this.name));
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
      try {
        await this.opts.client.create(leases(this.ns), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.ns }, spec: this.spec(undefined, now) } as Lease);
        return true;
      } catch (e) {
        if (ApiError.isAlreadyExists(e)) return false;
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    if (spec.holderIdentity !== this.observed.holder || spec.renewTime !== this.observed.renew) {
      this.observed = { holder: spec.holderIdentity ?? undefined, renew: spec.renewTime ?? undefined, at: Date.now() };
    }
    const holder = spec.holderIdentity;
    const duration = (spec.leaseDurationSeconds ?? 15) * 1000;
    if (holder && holder !== this.opts.identity && this.observed.at + duration > Date.now()) return false;
    try {
      const renewed: Lease = { ...lease, spec: this.spec(spec, now) };
      await this.opts.client.update(leases(this.ns, this.name), renewed);
      return true;
    } catch (err) {
      if (ApiError.isConflict(err)) return false;
      throw err;
    }
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.opts.client.get<Lease>(leases(this.ns, this.name));
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      const released: Lease = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) } };
      await this.opts.client.update(leases(this.ns, this.name), released);
    } catch (err) {
      this.opts.log?.('leader election: could not release the lease', { error: (err as Error).message });
    }
  }
}
