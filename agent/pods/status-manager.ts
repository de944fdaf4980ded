import type { PodStatus } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import { jittered } from '../../kube/backoff';
import type { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';
import { traceAdd, traceEnd } from '../start-trace';

interface Pending {
  namespace: string;
  name: string;
  status: PodStatus;
  /** When set() handed it over (performance.now()), for the start trace. */
  since?: number;
  /** After a failed write: not before this time (Date.now()). */
  notBefore?: number;
}

export interface StatusManagerOptions {
  /** Writes in flight at once (default 4): enough to keep up, few enough not to flood the master. */
  concurrency?: number;
  /**
   * A failed write is tried again (with the newest status) this long after (default 10 s, the
   * kubelet's status batch sync): retrying every pod each second made a master short of CPU
   * answer ~27 status writes per pod in the etcd density run, which kept it short.
   */
  retryMs?: number;
  /** Collect updates this long before writing, so a burst of changes becomes one PATCH (default 20 ms). */
  batchMs?: number;
  /**
   * Longest pause of every write after the master refused one as overloaded (default 80 s). The
   * pause starts at retryMs and doubles with each refusal in a row.
   */
  maxOverloadPauseMs?: number;
  /** Random in [0, 1) for the pause's jitter (tests fix it). */
  random?: () => number;
  onError?: (err: Error) => void;
}

/**
 * Owns writing pod status to the master: pod workers hand over the latest status, and only a
 * status that differs from the last one written is sent, as one merge-PATCH of pods/status.
 * A failed write is retried with the newest status, not replayed.
 */
export class StatusManager {
  private readonly pending = new Map<string, Pending>();
  private readonly written = new Map<string, string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private retryAt = 0;
  private stopped = false;
  /** Set while the master refuses writes as overloaded: the pause that the last refusal chose. */
  private overloadPauseMs = 0;
  /** No write goes out before this time (Date.now()) after an overload refusal. */
  private pausedUntil = 0;

  constructor(private readonly client: KubeClient, private readonly options: StatusManagerOptions = {}) {}

  set(uid: string, namespace: string, name: string, status: PodStatus): void {
    const text = JSON.stringify(status);
    if (this.written.get(uid) === text && !this.pending.has(uid)) return;
    const earlier = this.pending.get(uid);
    this.pending.set(uid, { namespace, name, status, since: earlier?.since ?? performance.now(), notBefore: earlier?.notBefore });
    this.schedule(this.options.batchMs ?? 20);
  }

  /** Writes the pod's pending status now (before the pod is deleted, say). */
  async flush(uid: string): Promise<void> {
    await this.inFlight.get(uid);
    const p = this.pending.get(uid);
    if (p) await this.write(uid, { ...p, notBefore: undefined });
  }

  forget(uid: string): void {
    this.pending.delete(uid);
    this.written.delete(uid);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /**
   * Resolves once nothing is in flight and every status handed over was tried; writes that failed
   * wait for their retry without holding this up (the master they wait for may be gone for good).
   */
  async idle(): Promise<void> {
    const fresh = (): boolean => Date.now() >= this.pausedUntil && [...this.pending.values()].some((p) => p.notBefore === undefined);
    while (this.inFlight.size || fresh()) {
      await Promise.all([...this.inFlight.values()]);
      if (!this.inFlight.size && this.pending.size) this.pump();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private schedule(ms: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
  }

  private pump(): void {
    const now = Date.now();
    if (now < this.pausedUntil) return this.scheduleRetry(this.pausedUntil);
    // After a pause one write probes the master; the others follow once it is answered.
    const limit = this.overloadPauseMs ? 1 : this.options.concurrency ?? 4;
    for (const [uid, p] of this.pending) {
      if (this.inFlight.size >= limit) break;
      if (this.inFlight.has(uid) || (p.notBefore ?? 0) > now) continue;
      void this.write(uid, p);
    }
  }

  /** Pumps again when the earliest failed write is due. */
  private scheduleRetry(at: number): void {
    if (this.stopped || (this.retryTimer && this.retryAt <= at)) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
      // Due writes the concurrency limit held back go out as writes finish; wait for the next one not yet due.
      const now = Date.now();
      let next = Infinity;
      for (const p of this.pending.values()) if ((p.notBefore ?? 0) > now) next = Math.min(next, p.notBefore as number);
      if (Number.isFinite(next)) this.scheduleRetry(next);
    }, Math.max(0, at - Date.now()));
  }

  /**
   * The master refused a write as overloaded (the client is told not to resend it; this is the
   * back-off instead): every write of this node waits, for retryMs and then twice as long with
   * each refusal in a row, plus up to half again at random so that thousands of nodes refused
   * together do not come back together.
   * Retrying each pod every retryMs instead is what turned an overloaded master into a retry
   * storm at 5,000 nodes (1,357,572 status writes for 70,453 pods, most of them refused).
   * Writes sent before the pause began and refused during it do not lengthen it.
   */
  private pauseAll(sentAt: number): number {
    if (sentAt < this.pausedUntil) return this.pausedUntil;
    const base = this.options.retryMs ?? 10_000;
    this.overloadPauseMs = Math.min(this.overloadPauseMs ? this.overloadPauseMs * 2 : base, this.options.maxOverloadPauseMs ?? 80_000);
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + jittered(this.overloadPauseMs, 0.5, this.options.random));
    return this.pausedUntil;
  }

  private write(uid: string, p: Pending): Promise<void> {
    this.pending.delete(uid);
    const text = JSON.stringify(p.status);
    const sentAt = Date.now();
    const run = (async () => {
      try {
        const t0 = performance.now();
        await this.client.patch(core('pods', p.namespace, p.name, 'status'), 'merge', { status: p.status }, '', { resendRefused: false });
        this.written.set(uid, text);
        this.overloadPauseMs = 0;
        traceAdd(uid, 'status-wait', t0 - (p.since ?? t0));
        traceAdd(uid, 'status-write', performance.now() - t0);
        traceAdd(uid, 'status-writes', 1);
        if (p.status.phase === 'Running') traceEnd(uid, p.name);
      } catch (err) {
        if (ApiError.isNotFound(err)) return this.forget(uid);
        this.options.onError?.(new Error(`writing status of pod ${p.namespace}/${p.name} failed: ${(err as Error).message}`));
        const notBefore = err instanceof ApiError && err.code === 429 ? this.pauseAll(sentAt) : Date.now() + (this.options.retryMs ?? 10_000);
        const newer = this.pending.get(uid);
        this.pending.set(uid, { ...(newer ?? p), notBefore });
        this.scheduleRetry(notBefore);
      } finally {
        this.inFlight.delete(uid);
        if (this.pending.size) this.schedule(0);
      }
    })();
    this.inFlight.set(uid, run);
    return run;
  }
}
