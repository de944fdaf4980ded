import type { Store } from '../store/store';
import { StoreError } from '../store/store';
import { errors } from './status';

export interface AllocatorOptions {
  /** IPv4 CIDR for ClusterIPs (default 10.96.0.0/12, as kubeadm). */
  serviceCidr: string;
  /** Inclusive NodePort range (default 30000-32767). */
  nodePortRange: [number, number];
}

function parseCidr(cidr: string): { base: number; size: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`service CIDR "${cidr}" is not an IPv4 CIDR such as 10.96.0.0/12`);
  const bits = Number(m[5]);
  const ip = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const size = 2 ** (32 - bits);
  return { base: (ip & ~(size - 1)) >>> 0, size };
}

const toIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** The `kubernetes` service's ClusterIP: the first address of the service range. */
export function apiServerServiceIp(serviceCidr: string): string {
  return toIp(parseCidr(serviceCidr).base + 1);
}

/**
 * Hands out ClusterIPs and NodePorts. Each allocation is a key created atomically in the store,
 * so two requests (or two masters on one etcd) can never get the same address or port.
 */
export class ServiceAllocator {
  private readonly cidr: { base: number; size: number };
  private nextIp: number;
  private nextPort: number;

  constructor(
    private readonly store: Store,
    private readonly options: AllocatorOptions,
  ) {
    this.cidr = parseCidr(options.serviceCidr);
    this.nextIp = 10;
    this.nextPort = options.nodePortRange[0];
  }

  /** The first address of the range, kept for the `kubernetes` service. */
  apiServerIp(): string {
    return apiServerServiceIp(this.options.serviceCidr);
  }

  inRange(ip: string): boolean {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
    const n = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
    return n > this.cidr.base && n < this.cidr.base + this.cidr.size - 1;
  }

  async allocateIp(owner: string, wanted?: string): Promise<string> {
    if (wanted) {
      if (!this.inRange(wanted)) throw errors.invalid({ kind: 'Service', group: '', plural: 'services' }, owner, [{ field: 'spec.clusterIP', message: `Invalid value: "${wanted}": provided IP is not in the valid range (${this.options.serviceCidr})` }]);
      if (!(await this.claim(`/lotse/allocations/clusterip/${wanted}`, owner))) throw errors.invalid({ kind: 'Service', group: '', plural: 'services' }, owner, [{ field: 'spec.clusterIP', message: `Invalid value: "${wanted}": provided IP is already allocated` }]);
      return wanted;
    }
    const usable = this.cidr.size - 2;
    for (let i = 0; i < usable; i++) {
      const offset = ((this.nextIp - 1 + i) % usable) + 1;
      const ip = toIp(this.cidr.base + offset);
      if (offset === 1) continue;
      if (await this.claim(`/lotse/allocations/clusterip/${ip}`, owner)) {
        this.nextIp = offset + 1;
        return ip;
      }
    }
    throw errors.internal(`no ClusterIP left in ${this.options.serviceCidr}`);
  }

  async allocatePort(owner: string, wanted?: number): Promise<number> {
    const [lo, hi] = this.options.nodePortRange;
    if (wanted !== undefined) {
      if (wanted < lo || wanted > hi) throw errors.invalid({ kind: 'Service', group: '', plural: 'services' }, owner, [{ field: 'spec.ports.nodePort', message: `Invalid value: ${wanted}: provided port is not in the valid range. The range of valid ports is ${lo}-${hi}` }]);
      if (!(await this.claim(`/lotse/allocations/nodeport/${wanted}`, owner))) throw errors.invalid({ kind: 'Service', group: '', plural: 'services' }, owner, [{ field: 'spec.ports.nodePort', message: `Invalid value: ${wanted}: provided port is already allocated` }]);
      return wanted;
    }
    const count = hi - lo + 1;
    for (let i = 0; i < count; i++) {
      const port = lo + ((this.nextPort - lo + i) % count);
      if (await this.claim(`/lotse/allocations/nodeport/${port}`, owner)) {
        this.nextPort = port + 1;
        return port;
      }
    }
    throw errors.internal(`no NodePort left in ${lo}-${hi}`);
  }

  async releaseIp(ip: string | undefined): Promise<void> {
    if (ip && ip !== 'None') await this.release(`/lotse/allocations/clusterip/${ip}`);
  }

  async releasePort(port: number | undefined): Promise<void> {
    if (port) await this.release(`/lotse/allocations/nodeport/${port}`);
  }

  private async claim(key: string, owner: string): Promise<boolean> {
    try {
      await this.store.create(key, { owner });
      return true;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'AlreadyExists') return false;
      throw err;
    }
  }

  private async release(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'NotFound')) throw err;
    }
  }
}
