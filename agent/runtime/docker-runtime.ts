import type Docker from 'dockerode';
import http from 'node:http';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import {
  LABEL, RuntimeError, SANDBOX_NAME,
  type ContainerKind, type ContainerRuntime, type ContainerSpec, type ContainerStateName, type ExecResult,
  type ExecSession, type ExecStreamOptions, type LogOptions, type MemoryVolumeSpec, type PodRef, type PullPolicy, type RuntimeContainer,
  type RuntimeInfo, type SandboxSpec,
} from './container-runtime';
import { loadDockerode } from './dockerode-loader';
import type { EngineEndpoint } from './endpoint';
import { MemoryVolumes } from './memory-volumes';
import { PAUSE_COMMAND, PAUSE_IMAGE, pauseBinary, singleFileTar } from './pause-image';
import { engineMessage } from './engine-message';

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

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

export const DEFAULT_ULIMITS: Ulimit[] = [
  { Name: 'nofile', Soft: 1024, Hard: 1024 },
  { Name: 'nproc', Soft: 1024, Hard: 1024 },
];

/** The fields of podman's /libpod/containers/json the agent reads. */
interface LibpodContainer {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Created: string;
  State: string;
  Labels: Record<string, string> | null;
  ExitCode?: number;
  StartedAt: number;
  ExitedAt: number;
}

interface InspectCache {
  state: string;
  exitCode?: number;
  reason?: string;
  startedAt?: Date;
  finishedAt?: Date;
}

/** ContainerRuntime over the Docker Engine API, as served by docker or `podman system service`. */
export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  private readonly pauseImage: string;
  private readonly inspected = new Map<string, InspectCache>();
  private pauseReady?: Promise<void>;
  private podman?: Promise<boolean>;
  /** Container ids per pod uid, from the last full listing plus what this agent created since. */
  private readonly byPod = new Map<string, Set<string>>();
  private indexed = false;
  private readonly agent: http.Agent;
  private readonly memoryVolumes: MemoryVolumes;

  constructor(private readonly options: DockerRuntimeOptions) {
    // An agent of our own, so close() can drop the kept-alive connections to the engine.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.docker = new (loadDockerode())({ ...options.endpoint, timeout: 0, agent: this.agent } as unknown as Docker.DockerOptions);
    this.pauseImage = options.pauseImage ?? PAUSE_IMAGE;
    this.memoryVolumes = new MemoryVolumes(this.docker, options.nodeName);
  }

  async info(): Promise<RuntimeInfo> {
    const v = await this.docker.version();
    const podman = (v.Components ?? []).some((c) => /podman/i.test(c.Name));
    const name = podman ? 'podman' : 'docker';
    return { name, version: v.Version, runtimeVersion: `${name}://${v.Version}` };
  }

  async listContainers(podUid?: string): Promise<RuntimeContainer[]> {
    if (podUid && this.indexed) return this.inspectPod(podUid);
    const label = [`${LABEL.node}=${this.options.nodeName}`, ...(podUid ? [`${LABEL.podUid}=${podUid}`] : [])];
    const list = (await this.isPodman()) ? await this.listLibpod(label) : await this.docker.listContainers({ all: true, filters: { label } });
    if (!podUid) {
      const live = new Set(list.map((c) => c.Id));
      for (const id of this.inspected.keys()) if (!live.has(id)) this.inspected.delete(id);
      this.byPod.clear();
      for (const c of list) this.remember(c.Labels?.[LABEL.podUid] ?? '', c.Id);
      this.indexed = true;
    }
    return Promise.all(list.map((c) => this.describe(c)));
  }

  private remember(podUid: string, id: string): void {
    let ids = this.byPod.get(podUid);
    if (!ids) this.byPod.set(podUid, (ids = new Set()));
    ids.add(id);
  }

  /**
   * One pod's containers by inspecting the ids we know (from the last full listing and from what
   * we created since): an engine lists under locks that every container start also takes, so a
   * busy node answers listings slowly, while an inspect waits only for that one container.
   */
  private async inspectPod(podUid: string): Promise<RuntimeContainer[]> {
    const ids = [...(this.byPod.get(podUid) ?? [])];
    const found = await Promise.all(
      ids.map(async (id) => {
        try {
          return await this.docker.getContainer(id).inspect();
        } catch (err) {
          if (isGone(err)) this.byPod.get(podUid)?.delete(id);
          else throw err;
          return undefined;
        }
      }),
    );
    return found.filter((i): i is Docker.ContainerInspectInfo => !!i).map((info) => {
      const state = normaliseState(info.State.Status);
      const exited = state === 'exited';
      const labels = info.Config.Labels ?? {};
      return {
        id: info.Id,
        ...fromLabels(labels),
        state,
        exitCode: exited ? info.State.ExitCode : undefined,
        reason: exited ? (info.State.OOMKilled ? 'OOMKilled' : info.State.ExitCode === 0 ? 'Completed' : 'Error') : undefined,
        createdAt: new Date(info.Created),
        startedAt: validDate(info.State.StartedAt),
        finishedAt: exited ? validDate(info.State.FinishedAt) : undefined,
        image: info.Config.Image,
        imageId: info.Image.startsWith('sha256:') ? info.Image : `sha256:${info.Image}`,
      };
    });
  }

  /** Podman only: fast and still Docker-shaped listing through podman's own API. */
  private isPodman(): Promise<boolean> {
    this.podman ??= this.docker.version().then(
      (v) => (v.Components ?? []).some((c) => /podman/i.test(c.Name)),
      () => {
        this.podman = undefined; // ask again next time
        return false;
      },
    );
    return this.podman;
  }

  /**
   * Podman's compat listing computes Docker fields it does not keep (ports, sizes) and is ~10x
   * slower than its own, which also carries exit code and times, so no inspect is needed.
   */
  private async listLibpod(label: string[]): Promise<Docker.ContainerInfo[]> {
    const raw = await new Promise<LibpodContainer[]>((resolve, reject) =>
      this.docker.modem.dial(
        { path: '/v4.0.0/libpod/containers/json?', method: 'GET', options: { all: true, filters: { label } }, statusCodes: { 200: true, 500: 'server error' } },
        (err: Error | null, data: unknown) => (err ? reject(err) : resolve(data as LibpodContainer[])),
      ),
    );
    return (raw ?? []).map((c) => {
      const state = normaliseState(c.State);
      if (state !== 'exited' || c.ExitCode === undefined) {
        this.inspected.set(c.Id, { state, startedAt: c.StartedAt > 0 ? new Date(c.StartedAt * 1000) : undefined });
      }
      return {
        Id: c.Id,
        Names: c.Names,
        Image: c.Image,
        ImageID: c.ImageID.startsWith('sha256:') ? c.ImageID : `sha256:${c.ImageID}`,
        Created: Math.floor(Date.parse(c.Created) / 1000),
        State: c.State,
        Labels: c.Labels ?? {},
      } as unknown as Docker.ContainerInfo;
    });
  }

  private async describe(c: Docker.ContainerInfo): Promise<RuntimeContainer> {
    const labels = c.Labels ?? {};
    const state = normaliseState(c.State);
    let details = this.inspected.get(c.Id);
    if (!details || details.state !== state) {
      details = await this.inspect(c.Id, state);
      this.inspected.set(c.Id, details);
    }
    return {
      id: c.Id,
      ...fromLabels(labels),
      state,
      exitCode: details.exitCode,
      reason: details.reason,
      createdAt: new Date(c.Created * 1000),
      startedAt: details.startedAt,
      finishedAt: details.finishedAt,
      image: c.Image,
      imageId: c.ImageID,
    };
  }

  private async inspect(id: string, state: ContainerStateName): Promise<InspectCache> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      const s = info.State;
      const exited = state === 'exited';
      return {
        state,
        exitCode: exited ? s.ExitCode : undefined,
        reason: exited ? (s.OOMKilled ? 'OOMKilled' : s.ExitCode === 0 ? 'Completed' : 'Error') : undefined,
        startedAt: validDate(s.StartedAt),
        finishedAt: exited ? validDate(s.FinishedAt) : undefined,
      };
    } catch {
      return { state };
    }
  }

  async ensureImage(image: string, policy: PullPolicy): Promise<string> {
    const present = await this.imageId(image);
    if (present && policy !== 'Always') return present;
    if (!present && policy === 'Never') {
      throw new RuntimeError('ErrImageNeverPull', `image "${image}" is not present on the node and imagePullPolicy is Never`);
    }
    try {
      await this.pull(image);
    } catch (err) {
      if (present) return present; // Always: keep what we have when the registry is unreachable
      throw new RuntimeError('ErrImagePull', `failed to pull image "${image}": ${(err as Error).message}`);
    }
    const id = await this.imageId(image);
    if (!id) throw new RuntimeError('ErrImagePull', `image "${image}" was pulled but cannot be found afterwards`);
    return id;
  }

  private async imageId(image: string): Promise<string | undefined> {
    try {
      const info = await this.docker.getImage(image).inspect();
      return info.Id.startsWith('sha256:') ? info.Id : `sha256:${info.Id}`;
    } catch {
      return undefined;
    }
  }

  private pull(image: string): Promise<void> {
    const timeoutMs = this.options.pullTimeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error): void => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      this.docker.pull(image, {}, (err: Error | null, stream?: NodeJS.ReadableStream) => {
        if (err || !stream) return done(err ?? new Error('no pull stream'));
        // The engine answers 200 and reports failures inside the progress stream.
        this.docker.modem.followProgress(stream, (e: Error | null, events: Array<{ error?: string }>) => {
          const failed = events?.find((ev) => ev.error);
          done(e ?? (failed ? new Error(failed.error) : undefined));
        });
      });
    });
  }

  private ensurePauseImage(): Promise<void> {
    if (!this.pauseReady) {
      this.pauseReady = (async () => {
        if (await this.imageId(this.pauseImage)) return;
        if (this.pauseImage !== PAUSE_IMAGE) return void (await this.ensureImage(this.pauseImage, 'IfNotPresent'));
        const tar = singleFileTar('pause', pauseBinary());
        const stream = await this.docker.importImage(Readable.from([tar]) as unknown as string, { repo: PAUSE_IMAGE }); // podman ignores `tag`; both accept repo:tag
        await new Promise<void>((resolve, reject) =>
          this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
        );
        if (!(await this.imageId(this.pauseImage))) throw new Error(`importing ${PAUSE_IMAGE} did not produce the image`);
      })().catch((err: Error) => {
        this.pauseReady = undefined;
        throw new RuntimeError('CreatePodSandboxError', `cannot prepare the pause image ${this.pauseImage}: ${err.message}`);
      });
    }
    return this.pauseReady;
  }

  async createSandbox(spec: SandboxSpec): Promise<{ id: string; ip: string }> {
    await this.ensurePauseImage();
    const exposed: Record<string, object> = {};
    const bindings: Record<string, Array<{ HostPort: string; HostIp?: string }>> = {};
    for (const p of spec.ports) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      if (p.hostPort) (bindings[key] ??= []).push({ HostPort: String(p.hostPort), ...(p.hostIP ? { HostIp: p.hostIP } : {}) });
    }
    const name = containerName(spec.pod, SANDBOX_NAME, 0);
    await this.removeByName(name);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        name,
        Image: this.pauseImage,
        Entrypoint: PAUSE_COMMAND,
        Cmd: [],
        Hostname: spec.hostNetwork ? undefined : spec.hostname.slice(0, 63),
        Labels: this.labels(spec.pod, SANDBOX_NAME, 'sandbox', 0, ''),
        ExposedPorts: exposed,
        HostConfig: {
          NetworkMode: spec.hostNetwork ? 'host' : spec.network ?? 'bridge',
          PortBindings: bindings,
          Binds: (spec.volumes ?? []).map((v) => `${v}:/lotse-volumes/${v}`),
          Dns: spec.dnsServers,
          DnsSearch: spec.dnsSearches,
          DnsOptions: spec.dnsOptions,
          Ulimits: this.ulimits(),
          RestartPolicy: { Name: 'no' },
        },
      });
    } catch (err) {
      throw new RuntimeError('CreatePodSandboxError', `creating the pod sandbox failed: ${engineMessage(err)}`);
    }
    try {
      await container.start();
    } catch (err) {
      const msg = engineMessage(err);
      await container.remove({ force: true }).catch(() => undefined);
      const port = /address already in use|port is already allocated|bind/i.test(msg)
        ? ` (a hostPort of this pod, ${spec.ports.filter((p) => p.hostPort).map((p) => p.hostPort).join(', ')}, is already in use on this node)`
        : '';
      throw new RuntimeError('CreatePodSandboxError', `starting the pod sandbox failed${port}: ${msg}`);
    }
    this.remember(spec.pod.uid, container.id);
    return { id: container.id, ip: spec.hostNetwork ? '' : await this.sandboxIp(container.id) };
  }

  async sandboxIp(id: string): Promise<string> {
    const info = await this.docker.getContainer(id).inspect();
    const ns = info.NetworkSettings;
    if (ns.IPAddress) return ns.IPAddress;
    for (const net of Object.values(ns.Networks ?? {})) if (net.IPAddress) return net.IPAddress;
    return '';
  }

  async createContainer(sandboxId: string, spec: ContainerSpec): Promise<string> {
    const name = containerName(spec.pod, spec.name, spec.attempt);
    await this.removeByName(name);
    try {
      const c = await this.docker.createContainer({
        name,
        Image: spec.image,
        Entrypoint: spec.entrypoint,
        Cmd: spec.cmd,
        Env: spec.env,
        WorkingDir: spec.workingDir,
        User: spec.user,
        Tty: spec.tty ?? false,
        OpenStdin: spec.stdin ?? false,
        Labels: this.labels(spec.pod, spec.name, spec.kind, spec.attempt, spec.specHash),
        HostConfig: {
          NetworkMode: `container:${sandboxId}`,
          IpcMode: `container:${sandboxId}`,
          // The pod's hostname (the sandbox's), not each container's id, as in Kubernetes.
          UTSMode: `container:${sandboxId}`,
          // A host path or a volume name: the engine's Binds take both.
          Binds: spec.mounts.map((m) => `${m.source}:${m.containerPath}${m.readOnly ? ':ro' : ''}`),
          Memory: spec.memoryLimitBytes,
          NanoCpus: spec.nanoCpus,
          CpuShares: spec.cpuShares,
          Privileged: spec.privileged,
          ReadonlyRootfs: spec.readOnlyRootFilesystem,
          CapAdd: spec.capAdd,
          CapDrop: spec.capDrop,
          Ulimits: this.ulimits(),
          RestartPolicy: { Name: 'no' },
        },
      });
      this.remember(spec.pod.uid, c.id);
      return c.id;
    } catch (err) {
      throw new RuntimeError('CreateContainerError', `creating container "${spec.name}" failed: ${engineMessage(err)}`);
    }
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      throw new RuntimeError('RunContainerError', `starting the container failed: ${engineMessage(err)}`);
    }
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.round(graceSeconds)) });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== 304 && !isGone(err)) throw new Error(`stopping container ${id.slice(0, 12)} failed: ${engineMessage(err)}`);
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (!isGone(err)) throw new Error(`removing container ${id.slice(0, 12)} failed: ${engineMessage(err)}`);
    }
    this.inspected.delete(id);
  }

  async exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    const session = await this.execStream(id, { cmd, stdin: false, tty: false });
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    session.stdout.on('data', (d: Buffer) => out.push(d));
    session.stderr.on('data', (d: Buffer) => errOut.push(d));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([session.exitCode(), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      session.close();
      throw new Error(`command ${JSON.stringify(cmd)} timed out after ${timeoutMs} ms`);
    }
    session.close();
    return { exitCode: result, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() };
  }

  async execStream(id: string, options: ExecStreamOptions): Promise<ExecSession> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: options.cmd,
      AttachStdin: options.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: options.tty,
    });
    const stream = (await exec.start({ hijack: true, stdin: options.stdin, Tty: options.tty })) as unknown as Duplex;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (options.tty) stream.pipe(stdout);
    else this.docker.modem.demuxStream(stream, stdout, stderr);
    const ended = new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        if (!options.tty) stdout.end();
        stderr.end();
        resolve();
      };
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
    return {
      stdin: options.stdin ? stream : undefined,
      stdout,
      stderr,
      resize: async (w, h) => {
        await exec.resize({ w, h }).catch(() => undefined);
      },
      exitCode: async () => {
        await ended;
        // The stream can end a moment before the engine records the exit code.
        for (let i = 0; i < 50; i++) {
          const info = await exec.inspect();
          if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
          await new Promise((r) => setTimeout(r, 20));
        }
        return -1;
      },
      close: () => stream.destroy(),
    };
  }

  async logs(id: string, options: LogOptions): Promise<Readable> {
    const container = this.docker.getContainer(id);
    const info = await container.inspect();
    const base = {
      stdout: true,
      stderr: true,
      timestamps: options.timestamps,
      ...(options.tailLines !== undefined ? { tail: options.tailLines } : {}),
      ...(options.sinceSeconds ? { since: Math.floor(Date.now() / 1000) - options.sinceSeconds } : {}),
    };
    const out = new PassThrough();
    if (options.follow) {
      const stream = (await container.logs({ ...base, follow: true })) as NodeJS.ReadableStream;
      if (info.Config.Tty) stream.pipe(out);
      else {
        this.docker.modem.demuxStream(stream, out, out);
        stream.on('end', () => out.end());
      }
      out.on('close', () => (stream as unknown as { destroy?: () => void }).destroy?.());
      return out;
    }
    const raw = (await container.logs({ ...base, follow: false })) as unknown as Buffer;
    out.end(info.Config.Tty ? raw : demuxBuffer(raw));
    return out;
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

  private labels(pod: PodRef, container: string, kind: ContainerKind, attempt: number, specHash: string): Record<string, string> {
    return {
      [LABEL.podUid]: pod.uid,
      [LABEL.podName]: pod.name,
      [LABEL.namespace]: pod.namespace,
      [LABEL.container]: container,
      [LABEL.node]: this.options.nodeName,
      [LABEL.kind]: kind,
      [LABEL.attempt]: String(attempt),
      [LABEL.specHash]: specHash,
    };
  }

  private ulimits(): Ulimit[] {
    return this.options.ulimits ?? DEFAULT_ULIMITS;
  }

  /** A leftover of a crashed agent can hold the name we want; it is ours (labelled), so it goes. */
  private async removeByName(name: string): Promise<void> {
    try {
      const info = await this.docker.getContainer(name).inspect();
      if (info.Config.Labels?.[LABEL.node] === this.options.nodeName) await this.removeContainer(info.Id);
    } catch {
      // not there
    }
  }
}

/** k8s_<container>_<pod>_<namespace>_<uid>_<attempt>, as dockershim named them. */
function containerName(pod: PodRef, container: string, attempt: number): string {
  return `k8s_${container}_${pod.name}_${pod.namespace}_${pod.uid}_${attempt}`;
}

function normaliseState(state: string): ContainerStateName {
  const s = state.toLowerCase();
  if (s === 'running' || s === 'paused') return 'running';
  if (s === 'exited' || s === 'dead' || s === 'stopped') return 'exited';
  if (s === 'created' || s === 'configured' || s === 'initialized') return 'created';
  return 'unknown';
}

function validDate(s: string | undefined): Date | undefined {
  if (!s || s.startsWith('0001-')) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Strips Docker's 8-byte stream headers from a non-follow log buffer. */
function demuxBuffer(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    if (type > 2 || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) return buf; // not multiplexed
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(parts);
}

/** Not found, as docker says it (404) or as podman sometimes does mid-removal (500 "no such container"). */
function isGone(err: unknown): boolean {
  const code = (err as { statusCode?: number }).statusCode;
  return code === 404 || /no such container|does not exist in database/i.test(engineMessage(err));
}

/** What the labels the agent puts on every container say about it (pod, container, attempt). */
function fromLabels(labels: Record<string, string>): Pick<RuntimeContainer, 'pod' | 'name' | 'kind' | 'attempt' | 'specHash'> {
  return {
    pod: { uid: labels[LABEL.podUid], name: labels[LABEL.podName], namespace: labels[LABEL.namespace] },
    name: labels[LABEL.container],
    kind: (labels[LABEL.kind] as ContainerKind) ?? 'app',
    attempt: Number(labels[LABEL.attempt] ?? 0),
    specHash: labels[LABEL.specHash] ?? '',
  };
}
