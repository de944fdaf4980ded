import type { Container, Probe } from 'kubernetes-types/core/v1';
import type { ContainerRuntime } from '../runtime/container-runtime';
import { runProbe } from './probers';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** A running container that may carry probes. */
export interface ProbeTarget {
  podUid: string;
  container: Container;
  containerId: string;
  podIP: string;
  startedAt: Date;
}

interface WorkerState {
  target: ProbeTarget;
  timers: NodeJS.Timeout[];
  started: boolean;
  ready: boolean;
  /** Set when liveness or startup gave up: the container must be restarted. */
  failed?: string;
  counts: Record<ProbeKind, { ok: number; fail: number }>;
  busy: Record<ProbeKind, boolean>;
}

/**
 * One probe worker per running container, as the kubelet's prober: startup gates liveness and
 * readiness; readiness flips Ready after successThreshold/failureThreshold results; liveness (or
 * startup) failing failureThreshold times marks the container for restart. Changes call onChange.
 */
export class ProbeManager {
  private readonly workers = new Map<string, WorkerState>();
  private readonly byPod = new Map<string, Set<string>>();

  constructor(private readonly runtime: ContainerRuntime, private readonly onChange: (podUid: string) => void) {}

  /** Makes the set of probed containers of a pod equal to targets. */
  update(podUid: string, targets: ProbeTarget[]): void {
    const wanted = new Set(targets.map((t) => t.containerId));
    for (const id of this.byPod.get(podUid) ?? []) if (!wanted.has(id)) this.stopWorker(podUid, id);
    for (const t of targets) if (!this.workers.has(t.containerId)) this.startWorker(t);
  }

  removePod(podUid: string): void {
    for (const id of [...(this.byPod.get(podUid) ?? [])]) this.stopWorker(podUid, id);
    this.byPod.delete(podUid);
  }

  /** Ready as the readiness probe says; a container without one is ready once started. */
  isReady(containerId: string): boolean {
    const w = this.workers.get(containerId);
    if (!w) return false;
    return w.started && (w.target.container.readinessProbe ? w.ready : true);
  }

  isStarted(containerId: string): boolean {
    return this.workers.get(containerId)?.started ?? false;
  }

  /** Why the container must be restarted (liveness/startup failure), if it must. */
  failure(containerId: string): string | undefined {
    return this.workers.get(containerId)?.failed;
  }

  stop(): void {
    for (const [pod] of this.byPod) this.removePod(pod);
  }

  private startWorker(target: ProbeTarget): void {
    const c = target.container;
    const w: WorkerState = {
      target,
      timers: [],
      started: !c.startupProbe,
      ready: false,
      counts: { liveness: { ok: 0, fail: 0 }, readiness: { ok: 0, fail: 0 }, startup: { ok: 0, fail: 0 } },
      busy: { liveness: false, readiness: false, startup: false },
    };
    this.workers.set(target.containerId, w);
    let ids = this.byPod.get(target.podUid);
    if (!ids) this.byPod.set(target.podUid, (ids = new Set()));
    ids.add(target.containerId);
    const plan: Array<[ProbeKind, Probe | undefined]> = [['startup', c.startupProbe], ['liveness', c.livenessProbe], ['readiness', c.readinessProbe]];
    for (const [kind, probe] of plan) if (probe) this.schedule(w, kind, probe);
  }

  private schedule(w: WorkerState, kind: ProbeKind, probe: Probe): void {
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const firstAt = w.target.startedAt.getTime() + (probe.initialDelaySeconds ?? 0) * 1000;
    const first = setTimeout(() => {
      void this.tick(w, kind, probe);
      const every = setInterval(() => void this.tick(w, kind, probe), periodMs);
      every.unref();
      w.timers.push(every);
    }, Math.max(0, firstAt - Date.now()));
    first.unref();
    w.timers.push(first);
  }

  private async tick(w: WorkerState, kind: ProbeKind, probe: Probe): Promise<void> {
    if (w.busy[kind] || w.failed || this.workers.get(w.target.containerId) !== w) return;
    if (kind === 'startup' && w.started) return;
    if (kind !== 'startup' && !w.started) return;
    w.busy[kind] = true;
    try {
      const outcome = await runProbe(probe, { runtime: this.runtime, containerId: w.target.containerId, podIP: w.target.podIP, container: w.target.container });
      if (this.workers.get(w.target.containerId) !== w) return;
      const n = w.counts[kind];
      if (outcome.ok) {
        n.ok++;
        n.fail = 0;
      } else {
        n.fail++;
        n.ok = 0;
      }
      this.apply(w, kind, probe, outcome.message);
    } finally {
      w.busy[kind] = false;
    }
  }

  private apply(w: WorkerState, kind: ProbeKind, probe: Probe, message: string): void {
    const n = w.counts[kind];
    const success = n.ok >= (kind === 'readiness' ? probe.successThreshold ?? 1 : 1);
    const failure = n.fail >= (probe.failureThreshold ?? 3);
    if (kind === 'startup') {
      if (success) this.change(w, () => (w.started = true));
      else if (failure) this.change(w, () => (w.failed = `Startup probe failed: ${message}`));
    } else if (kind === 'liveness') {
      if (failure) this.change(w, () => (w.failed = `Liveness probe failed: ${message}`));
    } else if (success && !w.ready) this.change(w, () => (w.ready = true));
    else if (failure && w.ready) this.change(w, () => (w.ready = false));
  }

  private change(w: WorkerState, mutate: () => void): void {
    mutate();
    this.onChange(w.target.podUid);
  }

  private stopWorker(podUid: string, containerId: string): void {
    const w = this.workers.get(containerId);
    if (w) for (const t of w.timers) clearTimeout(t);
    this.workers.delete(containerId);
    this.byPod.get(podUid)?.delete(containerId);
  }
}
