import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1';
import type { ContainerKind, RuntimeContainer } from '../runtime/container-runtime';

/** What the pod worker knows beyond the runtime's containers: reasons a container is not running. */
export interface WorkerView {
  podIP: string;
  hostIP: string;
  startTime: string;
  /** Waiting reason per container name (ErrImagePull, CrashLoopBackOff, RunContainerError...). */
  waiting: Map<string, { reason: string; message: string }>;
  /** A reason the pod as a whole cannot start (sandbox or volume trouble). */
  podWaiting?: { reason: string; message: string };
  containerIdPrefix: string;
  isReady(containerId: string): boolean;
  isStarted(containerId: string): boolean;
}

/** Latest and previous instance of one container, by attempt. */
export function instances(containers: RuntimeContainer[], name: string, kind: Exclude<ContainerKind, 'sandbox'>): { current?: RuntimeContainer; previous?: RuntimeContainer } {
  const mine = containers.filter((c) => c.name === name && c.kind === kind).sort((a, b) => a.attempt - b.attempt || a.createdAt.getTime() - b.createdAt.getTime());
  return { current: mine[mine.length - 1], previous: mine[mine.length - 2] };
}

/** Whether a finished container will be started again under the pod's restartPolicy. */
export function willRestart(pod: Pod, c: RuntimeContainer): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  // Never ran (created, not started: the agent stopped in between): it gets its start. A start that
  // failed is shown as exited with 128 (StartFailures), which the policy judges like any exit.
  if (c.state === 'created') return true;
  if (policy === 'Always') return true;
  return policy === 'OnFailure' && c.exitCode !== 0;
}

function terminated(c: RuntimeContainer, prefix: string): ContainerState {
  return {
    terminated: {
      exitCode: c.exitCode ?? (c.state === 'created' ? 128 : 0),
      reason: c.state === 'created' ? 'StartError' : c.reason ?? (c.exitCode === 0 ? 'Completed' : 'Error'),
      ...(c.message ? { message: c.message } : {}),
      startedAt: c.startedAt?.toISOString(),
      finishedAt: (c.finishedAt ?? c.createdAt).toISOString(),
      containerID: `${prefix}${c.id}`,
    },
  };
}

function containerStatus(pod: Pod, spec: Container, kind: Exclude<ContainerKind, 'sandbox'>, containers: RuntimeContainer[], view: WorkerView, initPending: boolean): ContainerStatus {
  const { current, previous } = instances(containers, spec.name, kind);
  const waiting = view.waiting.get(spec.name);
  const base: ContainerStatus = { name: spec.name, image: spec.image ?? '', imageID: current?.imageId ?? '', ready: false, restartCount: current?.attempt ?? 0, started: false };
  if (current) base.containerID = `${view.containerIdPrefix}${current.id}`;
  if (current?.state === 'running') {
    base.state = { running: { startedAt: (current.startedAt ?? current.createdAt).toISOString() } };
    base.lastState = previous ? terminated(previous, view.containerIdPrefix) : {};
    base.ready = view.isReady(current.id);
    base.started = view.isStarted(current.id);
    return base;
  }
  if (current && (current.state === 'exited' || current.state === 'created')) {
    if (waiting && willRestart(pod, current)) {
      base.state = { waiting: { ...waiting } };
      base.lastState = terminated(current, view.containerIdPrefix);
    } else {
      base.state = terminated(current, view.containerIdPrefix);
      base.lastState = previous ? terminated(previous, view.containerIdPrefix) : {};
    }
    return base;
  }
  const reason = waiting ?? view.podWaiting ?? { reason: initPending && kind === 'app' ? 'PodInitializing' : 'ContainerCreating', message: '' };
  base.state = { waiting: reason.message ? { ...reason } : { reason: reason.reason } };
  base.lastState = {};
  return base;
}

/** The pod's status from its containers, as the kubelet's generateAPIPodStatus computes it. */
export function buildPodStatus(pod: Pod, containers: RuntimeContainer[], view: WorkerView, now = new Date()): PodStatus {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const inits = pod.spec?.initContainers ?? [];
  const initStatuses: ContainerStatus[] = [];
  let initDone = true;
  let initFailed = false;
  for (const c of inits) {
    const st = containerStatus(pod, c, 'init', containers, view, false);
    initStatuses.push(st);
    const t = st.state?.terminated;
    if (t && t.exitCode === 0) continue;
    initDone = false;
    if (t && policy === 'Never') initFailed = true;
  }
  const statuses = (pod.spec?.containers ?? []).map((c) => containerStatus(pod, c, 'app', containers, view, !initDone));
  const phase = initFailed ? 'Failed' : !initDone ? 'Pending' : appPhase(policy, statuses);
  const allReady = initDone && statuses.length > 0 && statuses.every((s) => s.ready);
  const conditions = mergeConditions(pod.status?.conditions ?? [], [
    { type: 'PodReadyToStartContainers', status: view.podIP || pod.spec?.hostNetwork ? 'True' : 'False' },
    { type: 'Initialized', status: initDone ? 'True' : 'False', ...(initDone ? {} : { reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${inits.filter((_, i) => initStatuses[i].state?.terminated?.exitCode !== 0).map((c) => c.name).join(' ')}]` }) },
    readiness('ContainersReady', allReady, statuses),
    readiness('Ready', allReady, statuses),
    { type: 'PodScheduled', status: 'True' },
  ], now);
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: view.hostIP,
    hostIPs: view.hostIP ? [{ ip: view.hostIP }] : [],
    podIP: view.podIP || undefined,
    podIPs: view.podIP ? [{ ip: view.podIP }] : [],
    startTime: view.startTime,
    containerStatuses: statuses,
    qosClass: qosClass(pod),
  };
  if (inits.length) status.initContainerStatuses = initStatuses;
  const ephemeral = pod.spec?.ephemeralContainers ?? [];
  if (ephemeral.length) status.ephemeralContainerStatuses = ephemeral.map((c) => containerStatus(pod, c as Container, 'ephemeral', containers, view, false));
  return status;
}

function readiness(type: string, ready: boolean, statuses: ContainerStatus[]): Omit<PodCondition, 'lastTransitionTime'> {
  if (ready) return { type, status: 'True' };
  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  return { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` };
}

/** Keeps lastTransitionTime when a condition's status did not change; keeps conditions set by others. */
function mergeConditions(old: PodCondition[], next: Array<Omit<PodCondition, 'lastTransitionTime'>>, now: Date): PodCondition[] {
  const out: PodCondition[] = [];
  for (const c of next) {
    const prev = old.find((o) => o.type === c.type);
    if (c.type === 'PodScheduled' && prev) {
      out.push(prev);
      continue;
    }
    out.push({ ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now.toISOString() });
  }
  for (const o of old) if (!out.some((c) => c.type === o.type)) out.push(o);
  return out;
}

/** Kubernetes' getPhase: waiting (never ran) keeps Pending; finished containers decide by restartPolicy. */
function appPhase(policy: string, statuses: ContainerStatus[]): string {
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === 0) return 'Pending';
  // Every container has finished at least once and none runs now.
  const restarting = statuses.some((s) => s.state?.waiting);
  if (policy === 'Always' || restarting) return 'Running';
  if (succeeded === stopped) return 'Succeeded';
  return policy === 'OnFailure' ? 'Running' : 'Failed';
}

function qosClass(pod: Pod): string {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (!l || String(q) !== String(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
