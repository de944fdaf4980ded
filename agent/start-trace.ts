/**
 * Opt-in timings of the pod start path (LOTSE_TRACE_PODS=1, read once at load): the wall time each
 * phase took per pod, printed to stderr as one `pod-trace {json}` line when the pod's Running
 * status has been written. bench/pod-burst.ts reads these lines to tell the engine's time from
 * ours; off, every call is a pass-through.
 */
const enabled = process.env.LOTSE_TRACE_PODS === '1';

interface Trace {
  since: number;
  phases: Record<string, number>;
}

const traces = new Map<string, Trace>();

export function traceEnabled(): boolean {
  return enabled;
}

/** Marks when the agent first heard of the pod: phases are measured from here. */
export function traceBegin(uid: string): void {
  if (enabled && !traces.has(uid)) traces.set(uid, { since: performance.now(), phases: {} });
}

/** Adds ms to the pod's phase (a phase run twice counts twice). */
export function traceAdd(uid: string, phase: string, ms: number): void {
  const t = enabled ? traces.get(uid) : undefined;
  if (t) t.phases[phase] = (t.phases[phase] ?? 0) + ms;
}

/** Runs fn and adds its wall time to the pod's phase. */
export async function traced<T>(uid: string, phase: string, fn: () => Promise<T>): Promise<T> {
  if (!enabled || !traces.has(uid)) return fn();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    traceAdd(uid, phase, performance.now() - t0);
  }
}

/** The pod's Running status is written: print its phases, with the total since traceBegin. */
export function traceEnd(uid: string, name: string): void {
  const t = enabled ? traces.get(uid) : undefined;
  if (!t) return;
  traces.delete(uid);
  const phases = Object.fromEntries(Object.entries(t.phases).map(([k, v]) => [k, Math.round(v)]));
  process.stderr.write(`pod-trace ${JSON.stringify({ name, total: Math.round(performance.now() - t.since), phases })}\n`);
}
