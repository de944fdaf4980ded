import type { Job } from 'kubernetes-types/batch/v1';
import type { Pod } from 'kubernetes-types/core/v1';
import { isPodReady } from '../../../kube/pod-conditions';
import { podFailureVerdict } from './pod-failure-policy';

/** Upstream's pod failure back-off: 10 s after the first failure, doubling, capped at 6 min. */
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 6 * 60_000;

/** Annotation (and label) that numbers the pods of an Indexed Job. */
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

/** The pods of one Job sorted by what they mean for its status. */
export interface JobPods {
  /** Running or pending, not being deleted. */
  active: Pod[];
  /** Running or pending but being deleted. */
  terminating: Pod[];
  succeeded: Pod[];
  /** Failed pods that count towards backoffLimit (not ignored by the pod failure policy). */
  failed: Pod[];
  /** Set when a failed pod matched a FailJob rule. */
  failJobMessage?: string;
  /** Container restarts of active pods (restartPolicy OnFailure), counted as failures upstream. */
  restarts: number;
  ready: number;
}

export function classifyPods(job: Job, pods: Pod[]): JobPods {
  const out: JobPods = { active: [], terminating: [], succeeded: [], failed: [], restarts: 0, ready: 0 };
  for (const pod of pods) {
    if (pod.status?.phase === 'Succeeded') out.succeeded.push(pod);
    else if (pod.status?.phase === 'Failed') {
      const verdict = podFailureVerdict(job, pod);
      if (verdict.action === 'Ignore') continue;
      if (verdict.action === 'FailJob' && !out.failJobMessage) out.failJobMessage = verdict.message;
      out.failed.push(pod);
    } else if (pod.metadata?.deletionTimestamp) out.terminating.push(pod);
    else {
      out.active.push(pod);
      if (isPodReady(pod)) out.ready++;
      if (job.spec?.template?.spec?.restartPolicy === 'OnFailure') out.restarts += (pod.status?.containerStatuses ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0);
    }
  }
  return out;
}

/** When a pod stopped: its last container's finish, else its creation. */
export function finishTime(pod: Pod): number {
  const ends = (pod.status?.containerStatuses ?? []).map((s) => Date.parse(s.state?.terminated?.finishedAt ?? '')).filter((t) => !Number.isNaN(t));
  if (ends.length > 0) return Math.max(...ends);
  return Date.parse(pod.metadata?.creationTimestamp ?? '') || 0;
}

/**
 * How long new pods must wait after failures: base * 2^(n-1) after the last of n failures
 * since the last success, as upstream's back-off record. 0 when nothing failed lately.
 */
export function backoffRemainingMs(pods: JobPods, now: number, baseMs = BACKOFF_BASE_MS, maxMs = BACKOFF_MAX_MS): number {
  const lastSuccess = Math.max(0, ...pods.succeeded.map(finishTime));
  const recent = pods.failed.map(finishTime).filter((t) => t >= lastSuccess);
  if (recent.length === 0) return 0;
  const delay = Math.min(baseMs * 2 ** (recent.length - 1), maxMs);
  return Math.max(0, Math.max(...recent) + delay - now);
}

export function podIndex(pod: Pod): number | undefined {
  const raw = pod.metadata?.annotations?.[COMPLETION_INDEX] ?? pod.metadata?.labels?.[COMPLETION_INDEX];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Indexes in [0, completions) no succeeded or active pod holds, lowest first. */
export function missingIndexes(completions: number, pods: JobPods): number[] {
  const held = new Set<number>();
  for (const p of [...pods.succeeded, ...pods.active, ...pods.terminating]) {
    const i = podIndex(p);
    if (i !== undefined) held.add(i);
  }
  const out: number[] = [];
  for (let i = 0; i < completions; i++) if (!held.has(i)) out.push(i);
  return out;
}

/** The distinct indexes of succeeded pods, in upstream's interval form ("0-2,4"). */
export function completedIndexes(pods: Pod[], completions: number): { text: string; count: number } {
  const set = [...new Set(pods.map(podIndex).filter((i): i is number => i !== undefined && i < completions))].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < set.length; ) {
    let j = i;
    while (j + 1 < set.length && set[j + 1] === set[j] + 1) j++;
    parts.push(i === j ? `${set[i]}` : `${set[i]}-${set[j]}`);
    i = j + 1;
  }
  return { text: parts.join(','), count: set.length };
}
