import type Docker from 'dockerode';
import { LABEL, RuntimeError, type ContainerKind, type ContainerSpec, type Mount, type PodRef } from './container-runtime';
import type { ContainerList } from './container-list';
import { engineMessage, isGone, isNameInUse } from './engine-message';
import { traced } from '../start-trace';

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export const DEFAULT_ULIMITS: Ulimit[] = [
  { Name: 'nofile', Soft: 1024, Hard: 1024 },
  { Name: 'nproc', Soft: 1024, Hard: 1024 },
];

/** A pod's containers on the engine: created into the sandbox's namespaces, labelled as the agent's own. */
export class EngineContainers {
  constructor(
    private readonly docker: Docker,
    private readonly list: ContainerList,
    private readonly nodeName: string,
    /** Per-container ulimits; the default suits sandboxes that refuse to raise RLIMIT_NOFILE/NPROC. */
    readonly ulimits: Ulimit[],
  ) {}

  async create(sandboxId: string, spec: ContainerSpec): Promise<string> {
    const name = containerName(spec.pod, spec.name, spec.attempt);
    try {
      const c = await this.createNamed(name, () => traced(spec.pod.uid, 'container.create', () => this.docker.createContainer({
        name,
        Image: spec.image,
        Entrypoint: spec.entrypoint,
        Cmd: spec.cmd,
        Env: spec.env,
        WorkingDir: spec.workingDir,
        User: spec.user,
        Tty: spec.tty ?? false,
        OpenStdin: spec.stdin ?? false,
        StdinOnce: spec.stdinOnce ?? false,
        // An attached client must see the container's stdout, as the kubelet's CRI attach does.
        AttachStdin: spec.stdin ?? false,
        AttachStdout: true,
        AttachStderr: true,
        Labels: this.labels(spec.pod, spec.name, spec.kind, spec.attempt, spec.specHash),
        HostConfig: {
          NetworkMode: `container:${sandboxId}`,
          IpcMode: `container:${sandboxId}`,
          // The pod's hostname (the sandbox's), not each container's id, as in Kubernetes.
          UTSMode: `container:${sandboxId}`,
          // A host path or a volume name: the engine's Binds take both.
          Binds: spec.mounts.map(bindOf),
          Memory: spec.memoryLimitBytes,
          NanoCpus: spec.nanoCpus,
          CpuShares: spec.cpuShares,
          Privileged: spec.privileged,
          ReadonlyRootfs: spec.readOnlyRootFilesystem,
          CapAdd: spec.capAdd,
          CapDrop: spec.capDrop,
          Ulimits: this.ulimits,
          RestartPolicy: { Name: 'no' },
        },
      })));
      this.list.remember(spec.pod.uid, c.id);
      return c.id;
    } catch (err) {
      throw new RuntimeError('CreateContainerError', `creating container "${spec.name}" failed: ${engineMessage(err)}`);
    }
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      throw new RuntimeError('RunContainerError', `starting the container failed: ${engineMessage(err)}`);
    }
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.round(graceSeconds)) });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== 304 && !isGone(err)) throw new Error(`stopping container ${id.slice(0, 12)} failed: ${engineMessage(err)}`);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (!isGone(err)) throw new Error(`removing container ${id.slice(0, 12)} failed: ${engineMessage(err)}`);
    }
    this.list.forget(id);
  }

  /**
   * Runs create; when a leftover holds the name, it goes (if ours) and create runs once more.
   * Looking first would cost every start an engine round trip, under the engine's locks, for a
   * clash only an agent that died mid-start leaves behind.
   */
  async createNamed<T>(name: string, create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (err) {
      if (!isNameInUse(err)) throw err;
      await this.removeByName(name);
      return create();
    }
  }

  /** A leftover of a crashed agent can hold the name we want; it is ours (labelled), so it goes. */
  async removeByName(name: string): Promise<void> {
    try {
      const info = await this.docker.getContainer(name).inspect();
      if (info.Config.Labels?.[LABEL.node] === this.nodeName) await this.remove(info.Id);
    } catch {
      // not there
    }
  }

  labels(pod: PodRef, container: string, kind: ContainerKind, attempt: number, specHash: string): Record<string, string> {
    return {
      [LABEL.podUid]: pod.uid,
      [LABEL.podName]: pod.name,
      [LABEL.namespace]: pod.namespace,
      [LABEL.container]: container,
      [LABEL.node]: this.nodeName,
      [LABEL.kind]: kind,
      [LABEL.attempt]: String(attempt),
      [LABEL.specHash]: specHash,
    };
  }
}

/** k8s_<container>_<pod>_<namespace>_<uid>_<attempt>, as dockershim named them. */
export function containerName(pod: PodRef, container: string, attempt: number): string {
  return `k8s_${container}_${pod.name}_${pod.namespace}_${pod.uid}_${attempt}`;
}

/**
 * One engine bind, `SOURCE:DEST[:OPTIONS]`. Relabelled volumes get `z` (shared label): every
 * container of a pod gets its own MCS category from the engine, and a private `Z` would lock the
 * pod's other containers out of a shared emptyDir. Without SELinux the engine ignores it.
 */
export function bindOf(m: Mount): string {
  const options = [...(m.readOnly ? ['ro'] : []), ...(m.selinuxRelabel ? ['z'] : [])];
  return `${m.source}:${m.containerPath}${options.length ? `:${options.join(',')}` : ''}`;
}
