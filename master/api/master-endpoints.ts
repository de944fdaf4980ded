import { isIPv4 } from 'node:net';
import type { Store } from '../store/store';
import { StoreError } from '../store/store';
import type { Registry } from './registry';
import { findResource, type ResourceInfo } from './resources';
import { HttpError } from './status';

const endpoints = findResource('', 'v1', 'endpoints') as ResourceInfo;
const slices = findResource('discovery.k8s.io', 'v1', 'endpointslices') as ResourceInfo;
const leaseKey = (address: string): string => `/lotse/master-leases/${address}`;
const LEASE_PREFIX = '/lotse/master-leases/';

export interface MasterEndpointsOptions {
  /** The address pods reach this master at (an IPv4 address) and its port. */
  ip: string;
  port: number;
  /** How often the lease is renewed; masters silent for three periods drop out. */
  renewMs?: number;
  onError?: (err: Error) => void;
}

/**
 * The `kubernetes` Service's endpoints: every live master, as Kubernetes' lease endpoint
 * reconciler keeps them. Each master renews a lease in the store and writes the Endpoints and the
 * EndpointSlice `default/kubernetes` from the masters whose lease is fresh, so pods reach the API
 * through the service's ClusterIP; a master that stops takes itself out, one that dies drops out
 * once its lease is stale.
 */
export class MasterEndpoints {
  private timer: NodeJS.Timeout | undefined;
  private readonly renewMs: number;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly options: MasterEndpointsOptions,
  ) {
    if (!isIPv4(options.ip)) throw new Error(`the advertise address "${options.ip}" is not an IPv4 address: pass --advertise-address with the address pods reach this master at`);
    this.renewMs = options.renewMs ?? 10_000;
  }

  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => void this.renew().catch((err: Error) => this.options.onError?.(err)), this.renewMs);
    this.timer.unref();
  }

  /** Takes this master out of the endpoints (a clean shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.store.delete(leaseKey(this.self()));
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'NotFound')) throw err;
    }
    await this.reconcile();
  }

  private self(): string {
    return `${this.options.ip}:${this.options.port}`;
  }

  private async renew(): Promise<void> {
    const value = { ip: this.options.ip, port: this.options.port, renewTime: Date.now() };
    const current = await this.store.get(leaseKey(this.self()));
    if (current) await this.store.update(leaseKey(this.self()), value);
    else await this.store.create(leaseKey(this.self()), value).catch((err: unknown) => {
      if (!(err instanceof StoreError && err.code === 'AlreadyExists')) throw err;
    });
    await this.reconcile();
  }

  private async reconcile(): Promise<void> {
    const fresh = Date.now() - 3 * this.renewMs;
    const live = (await this.store.list(LEASE_PREFIX)).items
      .map((sv) => sv.value as { ip?: string; port?: number; renewTime?: number })
      .filter((l) => typeof l.ip === 'string' && typeof l.port === 'number' && (l.renewTime ?? 0) >= fresh)
      .sort((a, b) => String(a.ip).localeCompare(String(b.ip))) as { ip: string; port: number }[];
    // Every master of one cluster serves on the same port; the first one's port is the service's target.
    const port = live[0]?.port ?? this.options.port;
    const ips = [...new Set(live.filter((l) => l.port === port).map((l) => l.ip))];
    const labels = { 'endpointslice.kubernetes.io/skip-mirror': 'true' };
    await this.put(endpoints, {
      metadata: { name: 'kubernetes', namespace: 'default', labels },
      subsets: ips.length ? [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'https', port, protocol: 'TCP' }] }] : [],
    });
    await this.put(slices, {
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'lotse-master' } },
      addressType: 'IPv4',
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    });
  }

  /** Creates or replaces the object when its content differs (no write when nothing changed). */
  private async put(r: ResourceInfo, obj: Record<string, unknown>): Promise<void> {
    const existing = await this.registry.find(r, 'default', 'kubernetes');
    if (!existing) {
      try {
        await this.registry.create(r, 'default', structuredClone(obj));
      } catch (err) {
        if (!(err instanceof HttpError && err.code === 409)) throw err;
      }
      return;
    }
    await this.registry.update(r, 'default', 'kubernetes', (current) => {
      const { metadata, ...rest } = obj as { metadata: Record<string, unknown> };
      return { ...current, ...rest, metadata: { ...current.metadata, labels: metadata.labels as Record<string, string> } };
    });
  }
}
