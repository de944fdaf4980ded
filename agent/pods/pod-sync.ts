import type { Container, Pod } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import type { KubeClient } from '../../kube/client';
import { objectRef, type EventRecorder, type EventType } from '../../kube/event-recorder';
import { core } from '../../kube/resource-path';
import type { Backoff } from './backoff';
import { buildContainerSpec, ConfigError, containerHash } from './container-config';
import type { ObjectSource } from '../object-source';
import { buildPodStatus, instances, willRestart, type WorkerView } from './pod-status-builder';
import type { SyncResult } from './pod-workers';
import type { ProbeManager } from '../probes/probe-manager';
import { RuntimeError, SANDBOX_NAME, type ContainerKind, type ContainerRuntime, type PortMapping, type RuntimeContainer } from '../runtime/container-runtime';
import { Semaphore, type Permit } from './semaphore';
import type { StartFailures } from './start-failures';
import type { StatusManager } from './status-manager';
import type { VolumeManager, VolumeSource } from '../volumes/volume-manager';
import { VolumeError } from '../volumes/volume-error';
import type { PodDnsConfig } from '../dns/pod-dns-config';
import { lostInRestart } from './lost-containers';
import { traceAdd, traced } from '../start-trace';

export interface PodSyncDeps {
  client: KubeClient;
  runtime: ContainerRuntime;
  volumes: VolumeManager;
  objects: ObjectSource;
  probes: ProbeManager;
  status: StatusManager;
  /** Where Started, Killing, Failed... go; undefined records none. */
  events?: EventRecorder;
  restartBackoff: Backoff;
  pullBackoff: Backoff;
  /** Per pod: when a pod whose volumes failed to set up tries again (a missing ConfigMap, a refused token request). */
  mountBackoff: Backoff;
  startFailures: StartFailures;
  hostIP: string;
  /** Runtime network for pods (flannel's), else the runtime default. */
  network?: () => string | undefined;
  /** Why pods cannot get a network yet (kubelet's NetworkReady=false); only hostNetwork pods start meanwhile. */
  networkNotReady?: () => string | undefined;
  /** The resolv.conf a pod gets (cluster DNS for ClusterFirst); undefined: the engine's default. */
  dns?: (pod: Pod) => PodDnsConfig | undefined;
  containerIdPrefix: string;
  /** Asks for another sync of the pod after delayMs. */
  requestSync(uid: string, delayMs: number): void;
  /** Pods changing their containers at once (default 3). */
  startConcurrency?: number;
}

/** What a pod worker remembers between syncs. */
interface PodState {
  podIP: string;
  startTime: string;
  waiting: Map<string, { reason: string; message: string }>;
  podWaiting?: { reason: string; message: string };
  deleting?: boolean;
}

/**
 * The kubelet's SyncPod: compares a pod's spec with its containers and takes the next steps
 * (sandbox, volumes, init containers in order, app containers with restart back-off, probe-driven
 * restarts, graceful termination), then reports the resulting status.
 */
export class PodSync {
  private readonly states = new Map<string, PodState>();
  private readonly starting: Semaphore;

  constructor(private readonly d: PodSyncDeps) {
    this.starting = new Semaphore(d.startConcurrency ?? 3);
  }

  async sync(uid: string, pod: Pod | undefined): Promise<SyncResult> {
    traceAdd(uid, 'syncs', 1);
    const containers = await this.containers(uid);
    if (!pod) return this.cleanup(uid, containers);
    const state = this.stateOf(uid, pod);
    if (pod.metadata?.deletionTimestamp) return this.terminate(uid, pod, state, containers);

    let view = await this.report(pod, state, containers);
    if (view.phase === 'Succeeded' || view.phase === 'Failed') {
      await this.stopAll(pod, containers.filter((c) => c.state === 'running'), 0, 'pod finished');
      return 'keep';
    }
    // The slot is taken by the first action that changes containers; a sync with nothing to do
    // takes none. The listing above stays valid while waiting: only this pod's worker changes its
    // containers, and one that exits meanwhile wakes the PLEG, which asks for another sync.
    const permit = this.starting.permit();
    let changed: boolean;
    try {
      changed = await this.step(uid, pod, state, containers, permit);
    } finally {
      permit.release();
    }
    if (changed) view = await this.report(pod, state, await this.containers(uid));
    this.d.probes.update(uid, this.probeTargets(pod, state, view.containers));
    return 'keep';
  }

  /** Waits for this sync's start slot (once), counting the wait as the pod's queue time. */
  private async take(uid: string, permit: Permit): Promise<void> {
    traceAdd(uid, 'queue', await permit.take());
  }

  /** The pod's containers, with those whose start failed shown as exited (128, StartError). */
  private event(pod: Pod, type: EventType, reason: string, message: string): void {
    this.d.events?.record(objectRef(pod, 'Pod'), type, reason, message);
  }

  private async containers(uid: string): Promise<RuntimeContainer[]> {
    return lostInRestart(this.d.startFailures.apply(uid, await traced(uid, 'list', () => this.d.runtime.listContainers(uid))));
  }

  private stateOf(uid: string, pod: Pod): PodState {
    let s = this.states.get(uid);
    if (!s) {
      s = { podIP: pod.status?.podIP ?? '', startTime: pod.status?.startTime ?? new Date().toISOString(), waiting: new Map() };
      this.states.set(uid, s);
    }
    return s;
  }

  /** One round of actions; returns whether the runtime changed. */
  private async step(uid: string, pod: Pod, state: PodState, containers: RuntimeContainer[], permit: Permit): Promise<boolean> {
    const sandbox = await this.ensureSandbox(pod, state, containers, permit);
    if (sandbox === undefined) return false;
    // Creating a sandbox stops the containers of the old one; with none, the listing is unchanged
    // for what follows (sandboxes play no part in it), and the engine need not be asked again.
    if (sandbox.created && containers.some((c) => c.name !== SANDBOX_NAME)) containers = await this.containers(uid);
    let volumes: Map<string, VolumeSource>;
    try {
      volumes = await traced(uid, 'volumes', () => this.d.volumes.setUp(pod));
      this.d.mountBackoff.reset(uid);
      if (state.podWaiting?.reason === 'ContainerCreating') state.podWaiting = undefined;
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      this.volumeFailed(pod, state, err);
      return sandbox.created;
    }
    let changed = sandbox.created;
    // Init containers run one at a time, in order, each to success.
    for (const c of pod.spec?.initContainers ?? []) {
      const { current } = instances(containers, c.name, 'init');
      if (current?.state === 'exited' && current.exitCode === 0) continue;
      if (current?.state === 'running') return changed;
      if (current && !willRestart(pod, current)) return changed;
      changed = (await this.startContainer(pod, state, sandbox.id, c, 'init', current, volumes, permit)) || changed;
      return changed;
    }
    for (const c of pod.spec?.containers ?? []) {
      const { current, previous } = instances(containers, c.name, 'app');
      if (current?.state === 'running') {
        const why = this.d.probes.failure(current.id) ?? (current.specHash && current.specHash !== containerHash(c) ? 'Container spec changed' : undefined);
        if (why) {
          this.event(pod, 'Warning', 'Killing', `Container ${c.name} failed ${why.startsWith('Container') ? 'spec check' : 'probe'}, will be restarted: ${why}`);
          await this.take(uid, permit);
          await this.killContainer(pod, c, current, grace(pod));
          changed = true;
        }
        continue;
      }
      if (current && !willRestart(pod, current)) continue;
      changed = (await this.startContainer(pod, state, sandbox.id, c, 'app', current, volumes, permit)) || changed;
      // Keep the previous instance for `logs --previous`; older ones go.
      for (const old of containers.filter((x) => x.name === c.name && x.kind === 'app' && x !== current && x !== previous)) {
        await this.d.runtime.removeContainer(old.id).catch(() => undefined);
      }
    }
    // Ephemeral containers (kubectl debug) join the pod's namespaces once and are never restarted.
    for (const c of pod.spec?.ephemeralContainers ?? []) {
      if (instances(containers, c.name, 'ephemeral').current) continue;
      changed = (await this.startContainer(pod, state, sandbox.id, c as Container, 'ephemeral', undefined, volumes, permit)) || changed;
    }
    return changed;
  }

  /**
   * The pod waits (ContainerCreating) and tries again after a back-off that doubles with each
   * failure in a row, as the kubelet's volume operations do: a fixed 2 s made every pod of an
   * overloaded master ask for its ServiceAccount token (and record a FailedMount event) every 2 s,
   * 238,297 token requests for 70,453 pods at 5,000 nodes.
   */
  private volumeFailed(pod: Pod, state: PodState, err: VolumeError): void {
    const uid = pod.metadata?.uid ?? '';
    state.podWaiting = { reason: 'ContainerCreating', message: `MountVolume.SetUp failed: ${err.message}` };
    this.event(pod, 'Warning', 'FailedMount', err.message);
    this.d.requestSync(uid, this.d.mountBackoff.next(uid));
  }

  /** Returns the running sandbox (created now or before), or undefined when it cannot be had yet. */
  private async ensureSandbox(pod: Pod, state: PodState, containers: RuntimeContainer[], permit: Permit): Promise<{ id: string; created: boolean } | undefined> {
    const uid = pod.metadata?.uid ?? '';
    const sandboxes = containers.filter((c) => c.name === SANDBOX_NAME).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const live = sandboxes.filter((s) => s.state === 'running').pop();
    if (live) {
      if (!state.podIP && !pod.spec?.hostNetwork) state.podIP = await this.d.runtime.sandboxIp(live.id);
      // Old sandboxes go once no container depends on them any more.
      for (const old of sandboxes.filter((s) => s !== live && s.state !== 'running')) {
        if (containers.some((c) => c.name !== SANDBOX_NAME && c.createdAt < live.createdAt)) continue;
        await this.take(uid, permit);
        await this.d.runtime.removeContainer(old.id).catch(() => undefined);
      }
      return { id: live.id, created: false };
    }
    const key = `${uid}/${SANDBOX_NAME}`;
    const wait = this.d.restartBackoff.remaining(key);
    if (wait > 0) {
      this.d.requestSync(uid, wait);
      return undefined;
    }
    const networkProblem = pod.spec?.hostNetwork ? undefined : this.d.networkNotReady?.();
    if (networkProblem) {
      // As the kubelet: no sandbox on a network that is not the pod network; the pod waits.
      const message = `network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:${networkProblem}`;
      if (state.podWaiting?.message !== message) this.event(pod, 'Warning', 'NetworkNotReady', message);
      state.podWaiting = { reason: 'ContainerCreating', message };
      this.d.requestSync(uid, 1000);
      return undefined;
    }
    await this.take(uid, permit);
    // A new network namespace: whatever ran in the old one must start again inside the new one.
    const stale = containers.filter((c) => c.name !== SANDBOX_NAME && c.state === 'running');
    if (stale.length) await this.stopAll(pod, stale, 0, 'sandbox changed');
    for (const s of sandboxes) await this.d.runtime.removeContainer(s.id).catch(() => undefined);
    let held: string[];
    try {
      held = await traced(uid, 'memory-volumes', () => this.d.volumes.memoryVolumes(pod));
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      this.volumeFailed(pod, state, err);
      return undefined;
    }
    const dns = this.d.dns?.(pod);
    try {
      const created = await traced(uid, 'sandbox', () => this.d.runtime.createSandbox({
        attempt: sandboxes.length === 0 ? 0 : Math.max(...sandboxes.map((s) => s.attempt)) + 1,
        volumes: held,
        dnsServers: dns?.servers,
        dnsSearches: dns?.searches,
        dnsOptions: dns?.options,
        pod: { uid, name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default' },
        hostname: pod.spec?.hostname ?? pod.metadata?.name ?? 'pod',
        network: this.d.network?.(),
        ports: hostPorts(pod),
        hostNetwork: pod.spec?.hostNetwork ?? false,
      }));
      state.podIP = pod.spec?.hostNetwork ? this.d.hostIP : created.ip;
      state.podWaiting = undefined;
      this.d.restartBackoff.reset(key);
      return { id: created.id, created: true };
    } catch (err) {
      if (!(err instanceof RuntimeError)) throw err;
      state.podWaiting = { reason: err.reason, message: err.message };
      this.event(pod, 'Warning', 'FailedCreatePodSandBox', err.message);
      this.d.requestSync(uid, this.d.restartBackoff.next(key));
      return undefined;
    }
  }

  /** Pulls, creates and starts one container (attempt = previous + 1) unless a back-off holds it. */
  private async startContainer(pod: Pod, state: PodState, sandboxId: string, c: Container, kind: Exclude<ContainerKind, 'sandbox'>, previous: RuntimeContainer | undefined, volumes: Map<string, VolumeSource>, permit: Permit): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}/${c.name}`;
    const image = c.image ?? '';
    const wait = this.d.restartBackoff.remaining(key);
    if (wait > 0) {
      {
        const prior = state.waiting.get(c.name);
        if (previous && (!prior || !['RunContainerError', 'CreateContainerError', 'CreateContainerConfigError'].includes(prior.reason))) {
          state.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(this.d.restartBackoff.current(key) / 1000)}s restarting failed container=${c.name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${uid})` });
        }
        this.d.requestSync(uid, wait);
        return false;
      }
    }
    const pullKey = `pull/${uid}/${c.name}`;
    const pullWait = this.d.pullBackoff.remaining(pullKey);
    if (pullWait > 0) {
      state.waiting.set(c.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      this.d.requestSync(uid, pullWait);
      return false;
    }
    const policy = pullPolicy(c);
    // Whether the image is there is only a read: asked before the start slot, so the slot holds
    // just what changes the engine (a pull included) and the pods queued behind it wait less.
    const present = policy !== 'Always' && (await traced(uid, 'image', () => this.d.runtime.ensureImage(image, 'Never').then(() => true, () => false)));
    await this.take(uid, permit);
    try {
      if (!present) await traced(uid, 'image', () => this.d.runtime.ensureImage(image, policy));
      this.d.pullBackoff.reset(pullKey);
    } catch (err) {
      if (!(err instanceof RuntimeError)) throw err;
      state.waiting.set(c.name, { reason: err.reason, message: err.message });
      this.event(pod, 'Warning', 'Failed', err.message);
      this.d.requestSync(uid, this.d.pullBackoff.next(pullKey));
      return false;
    }
    const attempt = previous ? previous.attempt + 1 : 0;
    let id: string;
    try {
      const spec = await buildContainerSpec({ pod, hostIP: this.d.hostIP, podIP: state.podIP, volumes, volumeManager: this.d.volumes, objects: this.d.objects }, c, kind, attempt);
      id = await traced(uid, 'container-create', () => this.d.runtime.createContainer(sandboxId, spec));
    } catch (err) {
      const reason = err instanceof ConfigError || err instanceof VolumeError ? 'CreateContainerConfigError' : err instanceof RuntimeError ? 'CreateContainerError' : undefined;
      if (!reason) throw err;
      state.waiting.set(c.name, { reason, message: (err as Error).message });
      this.event(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      this.d.requestSync(uid, this.d.restartBackoff.next(key));
      return false;
    }
    if (previous) this.d.restartBackoff.next(key);
    try {
      await traced(uid, 'container-start', () => this.d.runtime.startContainer(id));
      state.waiting.delete(c.name);
      this.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
      await this.postStart(pod, c, id);
    } catch (err) {
      if (!(err instanceof RuntimeError)) throw err;
      // Remembered, so restartPolicy decides: Never ends here (terminated, 128), the others back off.
      this.d.startFailures.record(uid, id, err.message);
      state.waiting.set(c.name, { reason: err.reason, message: err.message });
      this.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      if (!previous) this.d.restartBackoff.next(key);
      this.d.requestSync(uid, this.d.restartBackoff.remaining(key));
    }
    return true;
  }

  /** A failing postStart hook kills the container, which then restarts under the pod's policy. */
  private async postStart(pod: Pod, c: Container, id: string): Promise<void> {
    const command = c.lifecycle?.postStart?.exec?.command;
    if (!command) return;
    const r = await this.d.runtime.exec(id, command, 30_000).catch((err: Error) => ({ exitCode: -1, stdout: '', stderr: err.message }));
    if (r.exitCode === 0) return;
    this.event(pod, 'Warning', 'FailedPostStartHook', `PostStartHook of container ${c.name} failed with ${r.exitCode}: ${(r.stdout + r.stderr).trim().slice(0, 200)}`);
    await this.d.runtime.stopContainer(id, 0);
  }

  private async killContainer(pod: Pod, spec: Container | undefined, c: RuntimeContainer, graceSeconds: number): Promise<void> {
    const started = Date.now();
    const preStop = spec?.lifecycle?.preStop?.exec?.command;
    if (preStop && c.state === 'running' && graceSeconds > 0) {
      try {
        await this.d.runtime.exec(c.id, preStop, graceSeconds * 1000);
      } catch (err) {
        this.event(pod, 'Warning', 'FailedPreStopHook', `PreStop hook of container ${c.name} failed: ${(err as Error).message}`);
      }
    }
    const left = Math.max(0, graceSeconds - (Date.now() - started) / 1000);
    await this.d.runtime.stopContainer(c.id, Math.ceil(left));
  }

  private async stopAll(pod: Pod, running: RuntimeContainer[], graceSeconds: number, why: string): Promise<void> {
    const apps = running.filter((c) => c.name !== SANDBOX_NAME);
    await Promise.all(apps.map((c) => this.killContainer(pod, pod.spec?.containers.find((s) => s.name === c.name), c, graceSeconds)));
    for (const s of running.filter((c) => c.name === SANDBOX_NAME)) await this.d.runtime.stopContainer(s.id, 0);
    void why;
  }

  /** Graceful deletion: preStop, SIGTERM, SIGKILL after the grace period, final status, then the API object goes. */
  private async terminate(uid: string, pod: Pod, state: PodState, containers: RuntimeContainer[]): Promise<SyncResult> {
    if (!state.deleting) {
      state.deleting = true;
      const g = pod.metadata?.deletionGracePeriodSeconds ?? grace(pod);
      this.event(pod, 'Normal', 'Killing', `Stopping pod (grace period ${g}s)`);
    }
    this.d.probes.removePod(uid);
    const g = pod.metadata?.deletionGracePeriodSeconds ?? grace(pod);
    await this.stopAll(pod, containers.filter((c) => c.state === 'running'), g, 'pod deleted');
    await this.report(pod, state, await this.containers(uid));
    await this.d.status.flush(uid);
    try {
      await this.d.client.delete(core('pods', pod.metadata?.namespace, pod.metadata?.name), { gracePeriodSeconds: 0, preconditions: { uid } });
    } catch (err) {
      if (!ApiError.isNotFound(err) && !ApiError.isConflict(err)) throw err;
    }
    return 'keep';
  }

  /** The pod is gone from the API: its containers and volumes go too. */
  private async cleanup(uid: string, containers: RuntimeContainer[]): Promise<SyncResult> {
    this.d.probes.removePod(uid);
    const running = containers.filter((c) => c.state === 'running' && c.name !== SANDBOX_NAME);
    await Promise.all(running.map((c) => this.d.runtime.stopContainer(c.id, 2)));
    // App containers first: the sandbox cannot go while containers share its namespaces.
    const ordered = [...containers.filter((c) => c.name !== SANDBOX_NAME), ...containers.filter((c) => c.name === SANDBOX_NAME)];
    for (const c of ordered) await this.d.runtime.removeContainer(c.id);
    await this.d.runtime.removePodVolumes(uid);
    this.d.volumes.tearDown(uid);
    this.d.startFailures.forget(uid);
    this.d.status.forget(uid);
    this.d.restartBackoff.forget(`${uid}/`);
    this.d.pullBackoff.forget(`pull/${uid}/`);
    this.d.mountBackoff.reset(uid);
    this.states.delete(uid);
    return 'done';
  }

  private async report(pod: Pod, state: PodState, containers: RuntimeContainer[]): Promise<{ phase: string; containers: RuntimeContainer[] }> {
    const view: WorkerView = {
      podIP: state.podIP,
      hostIP: this.d.hostIP,
      startTime: state.startTime,
      waiting: state.waiting,
      podWaiting: state.podWaiting,
      containerIdPrefix: this.d.containerIdPrefix,
      isReady: (id) => this.d.probes.isReady(id),
      isStarted: (id) => this.d.probes.isStarted(id),
    };
    const live = containers.filter((c) => c.name !== SANDBOX_NAME);
    // Probe workers for just-started containers must exist before readiness is judged.
    this.d.probes.update(pod.metadata?.uid ?? '', this.probeTargets(pod, state, containers));
    const status = buildPodStatus(pod, live, view);
    this.d.status.set(pod.metadata?.uid ?? '', pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', status);
    return { phase: status.phase ?? 'Pending', containers };
  }

  private probeTargets(pod: Pod, state: PodState, containers: RuntimeContainer[]) {
    const uid = pod.metadata?.uid ?? '';
    return containers
      .filter((c) => c.kind === 'app' && c.state === 'running')
      .flatMap((c) => {
        const spec = pod.spec?.containers.find((s) => s.name === c.name);
        return spec ? [{ podUid: uid, container: spec, containerId: c.id, podIP: state.podIP || this.d.hostIP, startedAt: c.startedAt ?? c.createdAt }] : [];
      });
  }
}

function grace(pod: Pod): number {
  return pod.spec?.terminationGracePeriodSeconds ?? 30;
}

function pullPolicy(c: Container): 'Always' | 'IfNotPresent' | 'Never' {
  if (c.imagePullPolicy === 'Always' || c.imagePullPolicy === 'Never' || c.imagePullPolicy === 'IfNotPresent') return c.imagePullPolicy;
  const image = c.image ?? '';
  const tagged = /:[^/]+$/.test(image) || image.includes('@');
  return !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

function hostPorts(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort && !pod.spec?.hostNetwork) continue;
      out.push({ containerPort: p.containerPort, hostPort: pod.spec?.hostNetwork ? 0 : p.hostPort ?? 0, protocol: (p.protocol ?? 'TCP') as PortMapping['protocol'], hostIP: p.hostIP });
    }
  }
  return out;
}
