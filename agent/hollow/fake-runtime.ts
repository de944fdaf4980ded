import crypto from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import {
  SANDBOX_NAME,
  type ContainerRuntime, type ContainerSpec, type ContainerUsage, type ExecResult, type ExecSession, type MemoryVolumeSpec, type PodRef, type RuntimeContainer,
  type RuntimeInfo, type SandboxSpec,
} from '../runtime/container-runtime';

/**
 * A runtime without containers, for hollow nodes (as kubemark and KWOK): sandboxes get an IP from
 * a private counter, containers "run" until stopped (a command of just `true` or `false` exits at
 * once with 0 or 1), exec succeeds, logs are empty. Memory per
 * pod is a few small objects, so thousands of nodes fit in one process.
 */
export class FakeRuntime implements ContainerRuntime {
  private readonly containers = new Map<string, RuntimeContainer>();
  private static nextIp = 1;

  constructor(private readonly nodeName: string) {}

  async info(): Promise<RuntimeInfo> {
    return { name: 'fake', version: '0.1.0', runtimeVersion: 'fake://0.1.0' };
  }

  async listContainers(podUid?: string): Promise<RuntimeContainer[]> {
    const all = [...this.containers.values()];
    return podUid ? all.filter((c) => c.pod.uid === podUid) : all;
  }

  async ensureImage(image: string): Promise<string> {
    return `sha256:${crypto.createHash('sha256').update(image).digest('hex')}`;
  }

  async createSandbox(spec: SandboxSpec): Promise<{ id: string; ip: string }> {
    const n = FakeRuntime.nextIp++;
    const ip = `10.${128 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
    const id = this.add(spec.pod, SANDBOX_NAME, 'sandbox', spec.attempt ?? 0, '', 'pause', 'running');
    this.ips.set(id, ip);
    return { id, ip };
  }

  private readonly ips = new Map<string, string>();

  async sandboxIp(id: string): Promise<string> {
    return this.ips.get(id) ?? '';
  }

  async createContainer(_sandboxId: string, spec: ContainerSpec): Promise<string> {
    const id = this.add(spec.pod, spec.name, spec.kind, spec.attempt, spec.specHash, spec.image, 'created');
    const code = exitAtOnce(spec.entrypoint);
    if (code !== undefined) this.exitCodes.set(id, code);
    return id;
  }

  /** Containers whose command is `true` or `false` exit at once, as those commands would: Jobs can finish on hollow nodes. */
  private readonly exitCodes = new Map<string, number>();

  async startContainer(id: string): Promise<void> {
    const c = this.mustGet(id);
    c.state = 'running';
    c.startedAt = new Date();
    const code = this.exitCodes.get(id);
    if (code === undefined) return;
    c.state = 'exited';
    c.exitCode = code;
    c.reason = code === 0 ? 'Completed' : 'Error';
    c.finishedAt = new Date();
  }

  async stopContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c || c.state !== 'running') return;
    c.state = 'exited';
    c.exitCode = 0;
    c.reason = 'Completed';
    c.finishedAt = new Date();
  }

  async removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
    this.exitCodes.delete(id);
    this.ips.delete(id);
  }

  async exec(): Promise<ExecResult> {
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  async execStream(): Promise<ExecSession> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end();
    stderr.end();
    return { stdout, stderr, resize: async () => undefined, exitCode: async () => 0, close: () => undefined };
  }

  attachStream(): Promise<ExecSession> {
    return this.execStream();
  }

  async logs(): Promise<Readable> {
    return Readable.from([]);
  }

  /** A running container "uses" one millicore and 1 MiB, so kubectl top and autoscalers see steady figures. */
  async usage(id: string): Promise<ContainerUsage | undefined> {
    const c = this.containers.get(id);
    if (!c || c.state !== 'running' || !c.startedAt) return undefined;
    const now = new Date();
    return { cpuUsageNanoseconds: (now.getTime() - c.startedAt.getTime()) * 1000, memoryWorkingSetBytes: 1 << 20, at: now };
  }

  async ensureNetwork(name: string): Promise<string> {
    return name;
  }

  /** No storage behind it: hollow pods only need the name. */
  async ensureMemoryVolume(spec: MemoryVolumeSpec): Promise<string> {
    return `${spec.pod.uid}_${spec.name}`;
  }

  async volumePods(): Promise<string[]> {
    return [];
  }

  async removePodVolumes(): Promise<void> {
    // nothing was created
  }

  close(): void {
    this.containers.clear();
  }

  private add(pod: PodRef, name: string, kind: RuntimeContainer['kind'], attempt: number, specHash: string, image: string, state: RuntimeContainer['state']): string {
    const id = crypto.randomBytes(16).toString('hex');
    const now = new Date();
    this.containers.set(id, {
      id, pod, name, kind, attempt, specHash, state, image,
      imageId: `sha256:${crypto.createHash('sha256').update(image).digest('hex')}`,
      createdAt: now,
      startedAt: state === 'running' ? now : undefined,
    });
    return id;
  }

  private mustGet(id: string): RuntimeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`fake runtime: no container ${id}`);
    return c;
  }
}

function exitAtOnce(command: string[] | undefined): number | undefined {
  if (command?.length !== 1) return undefined;
  if (command[0] === 'true') return 0;
  if (command[0] === 'false') return 1;
  return undefined;
}
