import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { cpuMillis, parseQuantity } from '../../../kube/quantity';

/** "42s", "5m", "3h", "2d": the age kubectl shows. */
export function age(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** The STATUS column of `kubectl get pods`: a waiting or terminated reason beats the phase. */
export function podStatus(pod: Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  let reason = pod.status?.reason || pod.status?.phase || 'Pending';
  for (const c of pod.status?.initContainerStatuses ?? []) {
    if (c.state?.terminated && c.state.terminated.exitCode !== 0) return `Init:${c.state.terminated.reason || 'Error'}`;
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') return `Init:${c.state.waiting.reason}`;
  }
  for (const c of pod.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
  }
  if (reason === 'Pending' && !pod.spec?.nodeName) return 'Pending';
  return reason;
}

/** Why a pod is not running, when it says: the scheduler's verdict or a container's waiting message. */
export function podProblem(pod: Pod): string | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.message) return scheduled.message;
  for (const c of pod.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.message) return c.state.waiting.message;
    if (c.state?.terminated?.message && c.state.terminated.exitCode !== 0) return c.state.terminated.message;
  }
  return undefined;
}

/** A colour class for a status word: ok, warn, bad or idle. */
export function tone(status: string): 'ok' | 'warn' | 'bad' | 'idle' {
  if (['Running', 'Ready', 'Complete', 'Succeeded', 'Completed', 'True', 'Normal'].includes(status)) return 'ok';
  if (/Error|BackOff|Failed|Err|Unknown|NotReady|Stalled|Warning|OOM/i.test(status)) return 'bad';
  if (['Pending', 'ContainerCreating', 'Terminating', 'Paused'].includes(status) || status.startsWith('Rolling') || status.startsWith('Init')) return 'warn';
  return 'idle';
}

export function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

export function readyContainers(pod: Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? statuses.length;
  return `${statuses.filter((c) => c.ready).length}/${total}`;
}

/** What `kubectl rollout status` would say about a deployment, in a few words. */
export function rolloutState(d: Deployment): string {
  const spec = d.spec?.replicas ?? 1;
  const st = d.status ?? {};
  if (d.spec?.paused) return 'Paused';
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return 'Stalled';
  if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return 'Rolling out: waiting for the controller';
  if ((st.updatedReplicas ?? 0) < spec) return `Rolling out: ${st.updatedReplicas ?? 0} of ${spec} updated`;
  if ((st.replicas ?? 0) > (st.updatedReplicas ?? 0)) return `Rolling out: ${(st.replicas ?? 0) - (st.updatedReplicas ?? 0)} old pending termination`;
  if ((st.availableReplicas ?? 0) < (st.updatedReplicas ?? 0)) return `Rolling out: ${st.availableReplicas ?? 0} of ${st.updatedReplicas ?? 0} available`;
  return 'Complete';
}

/** Sum of the container requests of a pod, the way the scheduler counts them. */
export function podRequests(pod: Pod): { cpuMillis: number; memoryBytes: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of pod.spec?.containers ?? []) {
    cpu += safe(() => cpuMillis(c.resources?.requests?.cpu));
    memory += safe(() => parseQuantity(c.resources?.requests?.memory));
  }
  return { cpuMillis: cpu, memoryBytes: memory };
}

export function formatCpu(millis: number): string {
  if (millis === 0) return '0';
  return millis >= 1000 && millis % 100 === 0 ? `${millis / 1000}` : `${millis}m`;
}

export function formatMemory(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.round((part / whole) * 100)) : 0;
}

function safe(f: () => number): number {
  try {
    return f();
  } catch {
    return 0;
  }
}
