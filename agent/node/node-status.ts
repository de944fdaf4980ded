import fs from 'node:fs';
import os from 'node:os';
import type { Node, NodeCondition, NodeStatus } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import type { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';

/** The version string nodes report as kubeletVersion: the Kubernetes API level lotse speaks. */
export const KUBELET_VERSION = 'v1.32.0-lotse';

/** Facts about the machine; the hollow variant answers with constants and reads nothing. */
export interface NodeFacts {
  cpus: number;
  memoryBytes: number;
  /** Bytes available to unprivileged users, and total bytes, of the data dir's filesystem. */
  disk(): { availableBytes: number; totalBytes: number };
  memoryAvailableBytes(): number;
  pidsInUse(): { used: number; max: number };
  kernelVersion: string;
  osImage: string;
  machineID: string;
  bootID: string;
}

export interface NodeIdentity {
  name: string;
  addresses: string[];
  kubeletPort: number;
  maxPods: number;
  runtimeVersion: string;
  /** Extra labels (--node-labels), merged over the standard ones. */
  labels?: Record<string, string>;
}

export function goArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

export function nodeLabels(id: NodeIdentity): Record<string, string> {
  const arch = goArch();
  return {
    'kubernetes.io/arch': arch,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/hostname': id.name,
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    ...(id.labels ?? {}),
  };
}

export function hostFacts(dataDir: string): NodeFacts {
  const read = (p: string): string => {
    try {
      return fs.readFileSync(p, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const osRelease = read('/etc/os-release');
  return {
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    disk: () => {
      try {
        const s = fs.statfsSync(dataDir);
        return { availableBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
      } catch {
        return { availableBytes: 0, totalBytes: 0 };
      }
    },
    memoryAvailableBytes: () => {
      const m = /MemAvailable:\s+(\d+) kB/.exec(read('/proc/meminfo'));
      return m ? Number(m[1]) * 1024 : os.freemem();
    },
    pidsInUse: () => ({
      used: fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length,
      max: Number(read('/proc/sys/kernel/pid_max')) || 32768,
    }),
    kernelVersion: os.release(),
    osImage: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'Linux',
    machineID: read('/etc/machine-id'),
    bootID: read('/proc/sys/kernel/random/boot_id'),
  };
}

export function hollowFacts(): NodeFacts {
  return {
    cpus: 4,
    memoryBytes: 16 * 2 ** 30,
    disk: () => ({ availableBytes: 90 * 2 ** 30, totalBytes: 100 * 2 ** 30 }),
    memoryAvailableBytes: () => 12 * 2 ** 30,
    pidsInUse: () => ({ used: 100, max: 32768 }),
    kernelVersion: os.release(),
    osImage: 'lotse hollow node',
    machineID: '',
    bootID: '',
  };
}

/** Thresholds as the kubelet's default hard eviction signals. */
const MEMORY_AVAILABLE_MIN = 100 * 2 ** 20;
const DISK_AVAILABLE_MIN_RATIO = 0.1;
const PID_AVAILABLE_MIN_RATIO = 0.05;

/** Computes the node's status; conditions keep lastTransitionTime while unchanged. */
export function buildNodeStatus(id: NodeIdentity, facts: NodeFacts, runtimeError: string | undefined, previous: NodeCondition[] | undefined, now = new Date(), networkError?: string): NodeStatus {
  const disk = facts.disk();
  const mem = facts.memoryAvailableBytes();
  const pids = facts.pidsInUse();
  const memPressure = mem < MEMORY_AVAILABLE_MIN;
  const diskPressure = disk.totalBytes > 0 && disk.availableBytes / disk.totalBytes < DISK_AVAILABLE_MIN_RATIO;
  const pidPressure = (pids.max - pids.used) / pids.max < PID_AVAILABLE_MIN_RATIO;
  const t = now.toISOString();
  // The kubelet's wording, which tools and people search for.
  const notReady = runtimeError
    ? `container runtime is down: ${runtimeError}`
    : networkError
      ? `container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:${networkError}`
      : undefined;
  const cond = (type: string, status: boolean, reason: string, message: string): NodeCondition => {
    const s = status ? 'True' : 'False';
    const prev = previous?.find((c) => c.type === type);
    return { type, status: s, reason, message, lastHeartbeatTime: t, lastTransitionTime: prev?.status === s ? prev.lastTransitionTime : t };
  };
  const capacity = {
    cpu: String(facts.cpus),
    memory: `${Math.floor(facts.memoryBytes / 1024)}Ki`,
    pods: String(id.maxPods),
    'ephemeral-storage': `${Math.floor(disk.totalBytes / 1024)}Ki`,
  };
  return {
    capacity,
    // The eviction threshold is held back from pods, as the kubelet does.
    allocatable: { ...capacity, memory: `${Math.max(0, Math.floor((facts.memoryBytes - MEMORY_AVAILABLE_MIN) / 1024))}Ki` },
    conditions: [
      cond('MemoryPressure', memPressure, memPressure ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory', memPressure ? 'kubelet has insufficient memory available' : 'kubelet has sufficient memory available'),
      cond('DiskPressure', diskPressure, diskPressure ? 'KubeletHasDiskPressure' : 'KubeletHasNoDiskPressure', diskPressure ? 'kubelet has disk pressure' : 'kubelet has no disk pressure'),
      cond('PIDPressure', pidPressure, pidPressure ? 'KubeletHasInsufficientPID' : 'KubeletHasSufficientPID', pidPressure ? 'kubelet has insufficient PID available' : 'kubelet has sufficient PID available'),
      cond('Ready', !notReady, notReady ? 'KubeletNotReady' : 'KubeletReady', notReady ?? 'kubelet is posting ready status'),
    ],
    addresses: [...id.addresses.map((a) => ({ type: 'InternalIP', address: a })), { type: 'Hostname', address: id.name }],
    daemonEndpoints: { kubeletEndpoint: { Port: id.kubeletPort } },
    nodeInfo: {
      machineID: facts.machineID,
      systemUUID: facts.machineID,
      bootID: facts.bootID,
      kernelVersion: facts.kernelVersion,
      osImage: facts.osImage,
      containerRuntimeVersion: id.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: goArch(),
    },
  };
}

/** How often an unchanged node status is written again: the kubelet's nodeStatusReportFrequency. */
export const DEFAULT_NODE_STATUS_REPORT_MS = 300_000;

export interface NodeStatusUpdaterOptions {
  /** How often status is computed (default 10 s); it is written when it changed or every fullEveryMs. */
  periodMs?: number;
  /**
   * Write even when nothing changed this often (default 5 min, the kubelet's
   * nodeStatusReportFrequency). Liveness is the Lease's job (renewed every 10 s); this write only
   * keeps the status's heartbeat times from going stale, and at 60 s it was most of what a large
   * cluster's master served.
   */
  fullEveryMs?: number;
  runtimeError: () => string | undefined;
  /** Why the pod network is not up (flannel's subnet.env missing); the node is NotReady meanwhile. */
  networkError?: () => string | undefined;
  /** The Node object is gone (deleted by an admin): register it again. */
  onNodeMissing?: () => Promise<void>;
  onError?: (err: Error) => void;
}

/** Keeps Node.status current: conditions, capacity, addresses, nodeInfo. */
export class NodeStatusUpdater {
  private timer?: NodeJS.Timeout;
  private lastConditions?: NodeCondition[];
  private lastKey = '';
  private lastWrite = 0;
  private stopped = false;

  constructor(private readonly client: KubeClient, private readonly id: NodeIdentity, private readonly facts: NodeFacts, private readonly o: NodeStatusUpdaterOptions) {}

  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.update().catch((e: Error) => this.o.onError?.(e)).finally(loop), this.o.periodMs ?? 10_000);
      this.timer.unref();
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Computes and (if changed or due) writes the status now. */
  async update(force = false): Promise<void> {
    const status = buildNodeStatus(this.id, this.facts, this.o.runtimeError(), this.lastConditions, new Date(), this.o.networkError?.());
    const key = JSON.stringify({ ...status, conditions: status.conditions?.map((c) => [c.type, c.status, c.reason]) });
    if (!force && key === this.lastKey && Date.now() - this.lastWrite < (this.o.fullEveryMs ?? DEFAULT_NODE_STATUS_REPORT_MS)) return;
    const ref = core('nodes', undefined, this.id.name, 'status');
    let node: Node;
    try {
      node = await this.client.patch<Node>(ref, 'merge', { status });
    } catch (err) {
      if (!ApiError.isNotFound(err) || !this.o.onNodeMissing) throw err;
      await this.o.onNodeMissing();
      node = await this.client.patch<Node>(ref, 'merge', { status });
    }
    this.lastConditions = node.status?.conditions ?? status.conditions;
    this.lastKey = key;
    this.lastWrite = Date.now();
  }
}
