import type Docker from 'dockerode';
import http from 'node:http';
import type { Readable } from 'node:stream';
import {
  LABEL,
  type AttachOptions, type ContainerRuntime, type ContainerSpec, type ExecResult, type ExecSession, type ExecStreamOptions, type LogOptions,
  type ContainerUsage, type MemoryVolumeSpec, type PullPolicy, type RuntimeContainer, type RuntimeInfo, type SandboxSpec,
} from './container-runtime';
import { ContainerList } from './container-list';
import { DEFAULT_ULIMITS, EngineContainers, type Ulimit } from './containers';
import { loadDockerode } from './dockerode-loader';
import type { EngineEndpoint } from './endpoint';
import { attachContainer } from './attach';
import { EngineExec } from './exec';
import { EngineImages } from './images';
import { containerLogs } from './logs';
import { containerUsage } from './usage';
import { MemoryVolumes } from './memory-volumes';
import { PAUSE_IMAGE } from './pause-image';
import { EngineSandboxes } from './sandboxes';

export interface DockerRuntimeOptions {
  endpoint: EngineEndpoint;
  nodeName: string;
  /** Image of the infra container; built locally when it is the default and missing. */
  pauseImage?: string;
  /** Give up on a pull after this long (default 60 s): a wedged registry must not stall a pod forever. */
  pullTimeoutMs?: number;
  /** Per-container ulimits; the default suits sandboxes that refuse to raise RLIMIT_NOFILE/NPROC. */
  ulimits?: Ulimit[];
}

/**
 * ContainerRuntime over the Docker Engine API, as served by docker or `podman system service`:
 * one engine connection shared by images, sandboxes, containers, exec, logs and memory volumes.
 */
export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  private readonly agent: http.Agent;
  private readonly list: ContainerList;
  private readonly images: EngineImages;
  private readonly containers: EngineContainers;
  private readonly sandboxes: EngineSandboxes;
  private readonly execs: EngineExec;
  private readonly memoryVolumes: MemoryVolumes;

  constructor(private readonly options: DockerRuntimeOptions) {
    // An agent of our own, so close() can drop the kept-alive connections to the engine.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.docker = new (loadDockerode())({ ...options.endpoint, timeout: 0, agent: this.agent } as unknown as Docker.DockerOptions);
    this.list = new ContainerList(this.docker, options.nodeName);
    this.images = new EngineImages(this.docker, options.pauseImage ?? PAUSE_IMAGE, options.pullTimeoutMs ?? 60_000);
    this.containers = new EngineContainers(this.docker, this.list, options.nodeName, options.ulimits ?? DEFAULT_ULIMITS);
    this.sandboxes = new EngineSandboxes(this.docker, this.images, this.containers, this.list);
    this.execs = new EngineExec(this.docker);
    this.memoryVolumes = new MemoryVolumes(this.docker, options.nodeName);
  }

  async info(): Promise<RuntimeInfo> {
    const v = await this.docker.version();
    const podman = (v.Components ?? []).some((c) => /podman/i.test(c.Name));
    const name = podman ? 'podman' : 'docker';
    return { name, version: v.Version, runtimeVersion: `${name}://${v.Version}` };
  }

  listContainers(podUid?: string): Promise<RuntimeContainer[]> {
    return this.list.list(podUid);
  }

  ensureImage(image: string, policy: PullPolicy): Promise<string> {
    return this.images.ensure(image, policy);
  }

  createSandbox(spec: SandboxSpec): Promise<{ id: string; ip: string }> {
    return this.sandboxes.create(spec);
  }

  sandboxIp(id: string): Promise<string> {
    return this.sandboxes.ip(id);
  }

  createContainer(sandboxId: string, spec: ContainerSpec): Promise<string> {
    return this.containers.create(sandboxId, spec);
  }

  startContainer(id: string): Promise<void> {
    return this.containers.start(id);
  }

  stopContainer(id: string, graceSeconds: number): Promise<void> {
    return this.containers.stop(id, graceSeconds);
  }

  removeContainer(id: string): Promise<void> {
    return this.containers.remove(id);
  }

  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    return this.execs.run(id, cmd, timeoutMs);
  }

  execStream(id: string, options: ExecStreamOptions): Promise<ExecSession> {
    return this.execs.stream(id, options);
  }

  attachStream(id: string, options: AttachOptions): Promise<ExecSession> {
    return attachContainer(this.docker, this.options.endpoint, id, options);
  }

  logs(id: string, options: LogOptions): Promise<Readable> {
    return containerLogs(this.docker, id, options);
  }

  ensureMemoryVolume(spec: MemoryVolumeSpec): Promise<string> {
    return this.memoryVolumes.ensure(spec);
  }

  volumePods(): Promise<string[]> {
    return this.memoryVolumes.pods();
  }

  removePodVolumes(podUid: string): Promise<void> {
    return this.memoryVolumes.removePod(podUid);
  }

  usage(id: string): Promise<ContainerUsage | undefined> {
    return containerUsage(this.docker, id);
  }

  async ensureNetwork(name: string, subnet: string, mtu: number, gateway?: string): Promise<string> {
    const existing = await this.docker.listNetworks({ filters: { name: [name] } });
    if (existing.some((n) => n.Name === name)) return name;
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Labels: { [LABEL.node]: this.options.nodeName },
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet, ...(gateway ? { Gateway: gateway } : {}) }] },
      Options: { 'com.docker.network.driver.mtu': String(mtu), mtu: String(mtu) },
    });
    return name;
  }

  close(): void {
    this.agent.destroy();
  }
}
