import type { Readable, Writable } from 'node:stream';

/** Labels on everything the agent creates: how a restarted agent finds (only) its own containers. */
export const LABEL = {
  podUid: 'io.lotse.pod-uid',
  podName: 'io.lotse.pod-name',
  namespace: 'io.lotse.namespace',
  container: 'io.lotse.container',
  node: 'io.lotse.node',
  /** Restart count of this container instance, so adoption keeps restartCount. */
  attempt: 'io.lotse.attempt',
  /** Hash of the container spec it was created from: a changed spec means a new container. */
  specHash: 'io.lotse.spec-hash',
  /** "init" for init containers, "app" for the rest, "sandbox" for the infra container. */
  kind: 'io.lotse.kind',
  /** On runtime volumes (memory-backed emptyDirs): the pod's volume name. */
  volume: 'io.lotse.volume',
} as const;

/** The container name of a pod's infra (sandbox) container in LABEL.container. */
export const SANDBOX_NAME = 'POD';

/** ephemeral: a debug container added to a running pod (kubectl debug), started once, never restarted. */
export type ContainerKind = 'sandbox' | 'init' | 'app' | 'ephemeral';

export interface PodRef {
  uid: string;
  name: string;
  namespace: string;
}

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  hostIP?: string;
}

export interface SandboxSpec {
  pod: PodRef;
  /**
   * 0 for the pod's first sandbox, one more for each replacement (its name carries it): a dead
   * sandbox that containers still reference cannot be removed yet, and must not block the new one.
   */
  attempt?: number;
  hostname: string;
  /** Runtime network to attach to (flannel's), undefined for the runtime default. */
  network?: string;
  ports: PortMapping[];
  hostNetwork: boolean;
  /** resolv.conf of the pod (undefined: the engine's default, i.e. the node's). */
  dnsServers?: string[];
  dnsSearches?: string[];
  dnsOptions?: string[];
  /**
   * Runtime volumes the sandbox keeps mounted: an engine unmounts a tmpfs volume once no container
   * uses it, which would empty a memory-backed emptyDir whenever its containers restart.
   */
  volumes?: string[];
}

export interface Mount {
  /** bind: a host path; volume: a runtime volume (memory-backed emptyDir), by name. */
  kind: 'bind' | 'volume';
  source: string;
  containerPath: string;
  readOnly: boolean;
  /**
   * Relabel the source for SELinux (CRI's selinux_relabel): set for the volumes the agent
   * manages (emptyDir, configMap, secret, projected, downwardAPI), never for a hostPath, whose
   * host files keep their own labels as under the kubelet.
   */
  selinuxRelabel?: boolean;
}

/** A memory-backed emptyDir of a pod, as the runtime keeps it. */
export interface MemoryVolumeSpec {
  pod: PodRef;
  /** The volume's name in the pod spec. */
  name: string;
  /** emptyDir.sizeLimit in bytes; undefined: the tmpfs default (half the node's memory). */
  sizeBytes?: number;
}

export interface ContainerSpec {
  pod: PodRef;
  name: string;
  kind: Exclude<ContainerKind, 'sandbox'>;
  attempt: number;
  specHash: string;
  image: string;
  /** Overrides the image entrypoint (Kubernetes `command`). */
  entrypoint?: string[];
  /** Overrides the image cmd (Kubernetes `args`). */
  cmd?: string[];
  env: string[];
  workingDir?: string;
  mounts: Mount[];
  memoryLimitBytes?: number;
  nanoCpus?: number;
  cpuShares?: number;
  user?: string;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  tty?: boolean;
  stdin?: boolean;
  /** Close the container's stdin when the first attached client detaches (`kubectl run -i --rm`). */
  stdinOnce?: boolean;
}

export type ContainerStateName = 'created' | 'running' | 'exited' | 'unknown';

export interface RuntimeContainer {
  id: string;
  pod: PodRef;
  /** Kubernetes container name, SANDBOX_NAME for the infra container. */
  name: string;
  kind: ContainerKind;
  attempt: number;
  specHash: string;
  state: ContainerStateName;
  exitCode?: number;
  /** Runtime's reason when it knows one (OOMKilled, Error; StartError for a start that failed). */
  reason?: string;
  /** Why it ended, when something says (the engine's error for a start that failed). */
  message?: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  image: string;
  imageId: string;
}

/** What a container has used, as the engine's stats report it. */
export interface ContainerUsage {
  /** CPU time since the container started (cumulative). */
  cpuUsageNanoseconds: number;
  /** Memory in use less inactive file cache: what the kubelet calls the working set. */
  memoryWorkingSetBytes: number;
  at: Date;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecStreamOptions {
  cmd: string[];
  stdin: boolean;
  tty: boolean;
}

export interface AttachOptions {
  stdin: boolean;
  tty: boolean;
}

/** A running exec: stdin (when asked for) goes in, stdout and stderr come out demultiplexed. */
export interface ExecSession {
  stdin?: Writable;
  stdout: Readable;
  /** Empty for a tty (everything arrives on stdout). */
  stderr: Readable;
  resize(width: number, height: number): Promise<void>;
  /** Resolves with the exit code once the process ends (and its output has been read). */
  exitCode(): Promise<number>;
  /** Tears the session down early (client went away). */
  close(): void;
}

export interface LogOptions {
  follow: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps: boolean;
}

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface RuntimeInfo {
  name: string;
  version: string;
  /** "docker://24.0.7" style string for nodeInfo.containerRuntimeVersion. */
  runtimeVersion: string;
}

/** Why a runtime call failed, in the words Kubernetes uses for container waiting reasons. */
export class RuntimeError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'CreateContainerError' | 'RunContainerError' | 'CreatePodSandboxError' | 'StartError',
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/**
 * What the agent needs from a container engine. The docker runtime speaks the Docker Engine API
 * (docker or podman); the fake runtime moves pods through their phases without containers.
 */
export interface ContainerRuntime {
  info(): Promise<RuntimeInfo>;
  /** Containers this node created (by LABEL.node), sandbox included; only one pod's when podUid is given. */
  listContainers(podUid?: string): Promise<RuntimeContainer[]>;
  /** Makes sure the image is present per policy; returns its image id. Throws RuntimeError(ErrImagePull). */
  ensureImage(image: string, policy: PullPolicy): Promise<string>;
  /** Creates and starts the infra container; returns its id and the pod IP. */
  createSandbox(spec: SandboxSpec): Promise<{ id: string; ip: string }>;
  sandboxIp(id: string): Promise<string>;
  createContainer(sandboxId: string, spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after graceSeconds. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  execStream(id: string, options: ExecStreamOptions): Promise<ExecSession>;
  /**
   * Attaches to a running container's main process (kubectl attach, run -it): its exit code is
   * always 0, since the session ends when the streams close, as the kubelet reports it.
   */
  attachStream(id: string, options: AttachOptions): Promise<ExecSession>;
  /** Plain (demultiplexed) log text of a container. */
  logs(id: string, options: LogOptions): Promise<Readable>;
  /** Creates the tmpfs volume of a memory-backed emptyDir unless it exists; returns its runtime name. */
  ensureMemoryVolume(spec: MemoryVolumeSpec): Promise<string>;
  /** UIDs of the pods that have runtime volumes on this node (by LABEL.node), to find orphans. */
  volumePods(): Promise<string[]>;
  /** Removes a pod's runtime volumes; its containers must be gone. */
  removePodVolumes(podUid: string): Promise<void>;
  /** CPU and memory a running container has used; undefined when the engine has no figures for it. */
  usage(id: string): Promise<ContainerUsage | undefined>;
  /** Creates a network with this subnet/MTU unless it exists; returns its name. */
  ensureNetwork(name: string, subnet: string, mtu: number, gateway?: string): Promise<string>;
  close(): void;
}
