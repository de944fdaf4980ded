import type { Identity } from '../auth/identity';
import { defaultIngressClass } from './default-ingress-class';
import { defaultStorageClass } from './default-storage-class';
import { qosClass } from './defaults';
import { admitLimitRanges } from './limit-ranger';
import { admitPodPriority } from './pod-priority';
import { admitQuota } from './resource-quota';
import type { ObjectMirror } from './object-mirror';
import type { Registry, Obj } from './registry';
import { resources, type ResourceInfo } from './resources';
import type { ServiceAllocator } from './service-allocator';
import { admitServiceAccount } from './service-account-admission';
import { errors, HttpError } from './status';

type Port = { port?: number; nodePort?: number; name?: string };
type ServiceSpec = { type?: string; clusterIP?: string; clusterIPs?: string[]; ports?: Port[] };

const namespaces = resources.find((r) => r.plural === 'namespaces') as ResourceInfo;

/** Watched copies of what admission reads on every create; without them (tests of admission alone) it lists the store. */
export interface AdmissionMirrors {
  quotas: ObjectMirror;
  limitRanges: ObjectMirror;
  priorityClasses: ObjectMirror;
}

const mirrored: Record<keyof AdmissionMirrors, string> = { quotas: 'resourcequotas', limitRanges: 'limitranges', priorityClasses: 'priorityclasses' };

/**
 * Namespaces the cluster itself lives in: without kube-system the controllers' leader Lease cannot
 * be renewed, without kube-node-lease no node heartbeats. Kubernetes' NamespaceLifecycle refuses
 * to delete them.
 */
export const immortalNamespaces: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/**
 * A check of who writes what, run on creates and updates (dry runs too) after validation:
 * RBAC's escalation prevention is one. Throws to refuse.
 */
export type WriterCheck = (r: ResourceInfo, namespace: string | undefined, obj: Obj, old: Obj | undefined, who: Identity) => Promise<void>;

/**
 * Kind-specific rules that run around the generic registry: namespaces must exist and not be
 * terminating; Services get their ClusterIP and NodePorts, keep them across updates and give
 * them back on delete; new pods get their ServiceAccount's token volume; new Ingresses the
 * default IngressClass, new claims the default StorageClass.
 */
export class Admission {
  private readonly writerChecks: WriterCheck[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly allocator: ServiceAllocator,
    private readonly mirrors?: AdmissionMirrors,
  ) {}

  addWriterCheck(check: WriterCheck): void {
    this.writerChecks.push(check);
  }

  async checkWriter(r: ResourceInfo, namespace: string | undefined, obj: Obj, old: Obj | undefined, who: Identity): Promise<void> {
    for (const check of this.writerChecks) await check(r, namespace, obj, old, who);
  }

  async beforeCreate(r: ResourceInfo, namespace: string | undefined, obj: Obj): Promise<void> {
    if (r.namespaced && namespace) await this.requireActiveNamespace(namespace);
    if (r.kind === 'Service') await this.allocateService(obj, undefined);
    if (r.kind === 'Pod' && namespace) await admitServiceAccount(this.registry, namespace, obj);
    if (r.kind === 'Pod' && r.group === '' && namespace) {
      admitLimitRanges(await this.listOf('limitRanges', namespace), obj);
      // The QoS class follows the requests and limits the LimitRanger may just have filled in.
      const status = obj.status as { qosClass?: string } | undefined;
      if (status) status.qosClass = qosClass((obj.spec ?? {}) as Record<string, unknown>);
    }
    if (r.kind === 'Pod' && r.group === '') await admitPodPriority(this.registry, await this.listOf('priorityClasses'), obj);
    if (r.kind === 'Ingress' && r.group === 'networking.k8s.io') await defaultIngressClass(this.registry, obj);
    if (r.kind === 'PersistentVolumeClaim' && r.group === '') await defaultStorageClass(this.registry, obj);
    // Last: the quota counts the object as the mutations above left it (LimitRanger's requests).
    if (r.namespaced && namespace) await admitQuota(this.registry, await this.listOf('quotas', namespace), r, namespace, obj);
  }

  async beforeUpdate(r: ResourceInfo, current: Obj, next: Obj): Promise<void> {
    if (r.kind === 'Service') await this.allocateService(next, current);
    if (r.kind === 'Pod' && r.group === '') keepNodeName(current, next);
    const namespace = current.metadata?.namespace;
    if (r.namespaced && namespace) await admitQuota(this.registry, await this.listOf('quotas', namespace), r, namespace, next, current);
  }

  private async listOf(mirror: keyof AdmissionMirrors, namespace?: string): Promise<Obj[]> {
    if (this.mirrors) return this.mirrors[mirror].list(namespace);
    return (await this.registry.list(resources.find((r) => r.plural === mirrored[mirror]) as ResourceInfo, namespace)).items;
  }

  /** Refuses deletes the cluster cannot survive; dry runs are refused alike. */
  beforeDelete(r: ResourceInfo, name: string): void {
    if (r.kind === 'Namespace' && immortalNamespaces.has(name)) {
      throw new HttpError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, group: '', kind: 'namespaces' });
    }
  }

  /** Undo allocations when a create fails after them. */
  async rollbackCreate(r: ResourceInfo, obj: Obj): Promise<void> {
    if (r.kind === 'Service') await this.releaseService(obj);
  }

  async afterDelete(r: ResourceInfo, obj: Obj): Promise<void> {
    if (r.kind === 'Service') await this.releaseService(obj);
  }

  private async requireActiveNamespace(name: string): Promise<void> {
    const ns = await this.registry.find(namespaces, undefined, name);
    if (!ns) throw errors.notFound(namespaces, name);
    if (ns.metadata?.deletionTimestamp) {
      throw new HttpError(403, 'Forbidden', `unable to create new content in namespace ${name} because it is being terminated`);
    }
  }

  private async allocateService(obj: Obj, current: Obj | undefined): Promise<void> {
    const spec = (obj.spec ?? {}) as ServiceSpec;
    const old = (current?.spec ?? {}) as ServiceSpec;
    const owner = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    if (spec.type === 'ExternalName') return;
    if (current) {
      if (spec.clusterIP && old.clusterIP && spec.clusterIP !== old.clusterIP) {
        throw errors.invalid({ kind: 'Service', group: '', plural: 'services' }, String(obj.metadata?.name), [{ field: 'spec.clusterIP', message: 'Invalid value: field is immutable' }]);
      }
      spec.clusterIP = old.clusterIP;
    } else if (spec.clusterIP !== 'None') {
      spec.clusterIP = await this.allocator.allocateIp(owner, spec.clusterIP || undefined);
    }
    spec.clusterIPs = spec.clusterIP ? [spec.clusterIP] : undefined;
    const wantsNodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const oldPorts = new Map((old.ports ?? []).map((p) => [p.port, p.nodePort]));
    for (const p of spec.ports ?? []) {
      if (!wantsNodePort) {
        delete p.nodePort;
        continue;
      }
      const kept = oldPorts.get(p.port);
      if (p.nodePort && p.nodePort === kept) continue;
      if (!p.nodePort && kept) {
        p.nodePort = kept;
        continue;
      }
      p.nodePort = await this.allocator.allocatePort(owner, p.nodePort);
    }
    if (current) {
      const still = new Set((spec.ports ?? []).map((p) => p.nodePort));
      for (const p of old.ports ?? []) if (p.nodePort && !still.has(p.nodePort)) await this.allocator.releasePort(p.nodePort);
    }
    obj.spec = spec;
  }

  private async releaseService(obj: Obj): Promise<void> {
    const spec = (obj.spec ?? {}) as ServiceSpec;
    await this.allocator.releaseIp(spec.clusterIP);
    for (const p of spec.ports ?? []) await this.allocator.releasePort(p.nodePort);
  }
}

/**
 * A bound pod stays on its node, as in Kubernetes (only a binding sets spec.nodeName). Watches
 * of a node's pods rely on it: the store hands a pod's events to the watchers of its node only.
 */
function keepNodeName(current: Obj, next: Obj): void {
  const bound = (current.spec as { nodeName?: string } | undefined)?.nodeName;
  const spec = next.spec as { nodeName?: string } | undefined;
  if (!bound || spec === undefined || (spec.nodeName ?? '') === bound) return;
  throw errors.invalid({ kind: 'Pod', group: '', plural: 'pods' }, String(next.metadata?.name), [{ field: 'spec.nodeName', message: `Invalid value: "${spec.nodeName ?? ''}": field is immutable once the pod is bound (to ${bound})` }]);
}
