import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service, ServicePort } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { ApiError } from '../../../kube/api-error';
import { Selector } from '../../../kube/label-selector';
import { objectKey, type KubeObject } from '../../../kube/object';
import { isPodReady, isPodTerminal } from '../../../kube/pod-conditions';
import { core, type ResourceRef } from '../../../kube/resource-path';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';
import { newControllerRef } from '../owner-references';
import { canonicalJson, fnv32a } from '../pod-template-hash';
import type { InformerLike, ObjectIndex } from '../../../kube/shared-informers';
import { deleteObject } from '../delete-object';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const slicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };

/** A service port resolved against one pod: a named targetPort is looked up in the pod's containers. */
export function resolvePort(sp: ServicePort, pod: Pod): EndpointPort | undefined {
  const protocol = sp.protocol ?? 'TCP';
  const target = sp.targetPort ?? sp.port;
  let port: number | undefined;
  if (typeof target === 'number') port = target;
  else if (/^\d+$/.test(target)) port = Number(target);
  else {
    for (const c of pod.spec?.containers ?? []) {
      const p = c.ports?.find((cp) => cp.name === target && (cp.protocol ?? 'TCP') === protocol);
      if (p) port = p.containerPort;
    }
  }
  if (port === undefined) return undefined;
  return { name: sp.name, port, protocol, appProtocol: sp.appProtocol };
}

export interface EndpointEntry {
  pod: Pod;
  ip: string;
  ready: boolean;
  ports: EndpointPort[];
}

/** The pods a service sends traffic to, each with its resolved ports. */
export function serviceEndpoints(svc: Service, pods: Pod[]): EndpointEntry[] {
  const selector = Selector.fromMap(svc.spec?.selector);
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const out: EndpointEntry[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || isPodTerminal(pod) || !selector.matches(pod.metadata?.labels)) continue;
    if (pod.metadata?.deletionTimestamp && !publishNotReady) continue;
    const ports = (svc.spec?.ports ?? []).map((sp) => resolvePort(sp, pod)).filter((p): p is EndpointPort => p !== undefined);
    if ((svc.spec?.ports ?? []).length > 0 && ports.length === 0) continue;
    out.push({ pod, ip, ready: publishNotReady || isPodReady(pod), ports });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip) || String(a.pod.metadata?.name).localeCompare(String(b.pod.metadata?.name)));
}

/**
 * The DNS hostname of a pod's endpoint: its spec.hostname when its spec.subdomain names the
 * Service (a StatefulSet's pods, so NAME-N.SERVICE.NS.svc resolves), as upstream sets it.
 */
function endpointHostname(e: EndpointEntry, svc?: Service): string | undefined {
  const spec = e.pod.spec;
  return spec?.hostname && spec.subdomain && (!svc || spec.subdomain === svc.metadata?.name) ? spec.hostname : undefined;
}

function address(e: EndpointEntry): EndpointAddress {
  const hostname = endpointHostname(e);
  return {
    ip: e.ip,
    ...(hostname ? { hostname } : {}),
    nodeName: e.pod.spec?.nodeName,
    targetRef: { kind: 'Pod', namespace: e.pod.metadata?.namespace, name: e.pod.metadata?.name, uid: e.pod.metadata?.uid },
  };
}

const portsKey = (ports: EndpointPort[]): string => canonicalJson([...ports].sort((a, b) => String(a.name).localeCompare(String(b.name))));

/** Endpoints subsets: pods grouped by the ports they resolve to, as upstream repacks them. */
export function endpointSubsets(entries: EndpointEntry[]): EndpointSubset[] {
  const groups = new Map<string, EndpointSubset>();
  for (const e of entries) {
    const k = portsKey(e.ports);
    let s = groups.get(k);
    if (!s) groups.set(k, (s = { ports: e.ports.length ? e.ports : undefined }));
    const list = e.ready ? (s.addresses ??= []) : (s.notReadyAddresses ??= []);
    list.push(address(e));
  }
  return [...groups.values()];
}

/** One EndpointSlice per distinct port set (a placeholder without endpoints when the service has none). */
export function desiredSlices(svc: Service, entries: EndpointEntry[]): EndpointSlice[] {
  const groups = new Map<string, EndpointEntry[]>();
  for (const e of entries) groups.set(portsKey(e.ports), [...(groups.get(portsKey(e.ports)) ?? []), e]);
  if (groups.size === 0) groups.set(portsKey([]), []);
  const name = svc.metadata?.name ?? '';
  return [...groups].map(([key, group]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name.slice(0, 50)}-${fnv32a(key).toString(36)}`,
      namespace: svc.metadata?.namespace,
      labels: { ...(svc.metadata?.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [newControllerRef(svc, 'v1', 'Service')],
    },
    addressType: group.some((e) => e.ip.includes(':')) ? 'IPv6' : 'IPv4',
    endpoints: group.map((e) => ({
      addresses: [e.ip],
      ...(endpointHostname(e, svc) ? { hostname: endpointHostname(e, svc) } : {}),
      conditions: { ready: e.ready && !e.pod.metadata?.deletionTimestamp, serving: isPodReady(e.pod), terminating: Boolean(e.pod.metadata?.deletionTimestamp) },
      nodeName: e.pod.spec?.nodeName,
      targetRef: { kind: 'Pod', namespace: e.pod.metadata?.namespace, name: e.pod.metadata?.name, uid: e.pod.metadata?.uid },
    })),
    ports: group[0]?.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol, appProtocol: p.appProtocol })) ?? [],
  }));
}

/** Keeps Endpoints and EndpointSlices of every Service with a selector in line with its ready pods. */
export class EndpointsController extends QueueController {
  readonly name = 'endpoints-controller';
  private readonly services: InformerLike<Service>;
  private readonly endpoints: InformerLike<Endpoints>;
  private readonly podIndex: ObjectIndex<Pod>;
  private readonly sliceIndex: ObjectIndex<EndpointSlice>;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'endpoints sync failed', keyField: 'service' });
    this.services = ctx.informers.get<Service>(core('services'));
    this.endpoints = ctx.informers.get<Endpoints>(core('endpoints'));
    this.podIndex = ctx.informers.index<Pod>(core('pods'));
    this.sliceIndex = ctx.informers.index<EndpointSlice>(slicesRef);
    this.services.on((_t, svc) => this.queue.add(objectKey(svc)));
    this.endpoints.on((type, ep) => type === 'DELETED' && this.services.get(objectKey(ep)) && this.queue.add(objectKey(ep)));
    ctx.informers.get<Pod>(core('pods')).on((_t, pod, old) => {
      for (const p of old ? [pod, old] : [pod]) {
        for (const svc of this.services.list()) {
          if (svc.metadata?.namespace !== p.metadata?.namespace || !svc.spec?.selector) continue;
          if (Selector.fromMap(svc.spec.selector).matches(p.metadata?.labels)) this.queue.add(objectKey(svc));
        }
      }
    });
  }


  protected async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const svc = this.services.get(key);
    if (!svc) {
      await ignoreNotFound(deleteObject(this.ctx.client, core('endpoints', ns, name)));
      return;
    }
    // Services without a selector have hand-written endpoints; ExternalName ones have none.
    if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0 || svc.spec.type === 'ExternalName') return;
    const entries = serviceEndpoints(svc, this.podIndex.inNamespace(ns));
    await this.syncEndpoints(svc, entries);
    await this.syncSlices(svc, entries);
  }

  private async syncEndpoints(svc: Service, entries: EndpointEntry[]): Promise<void> {
    const ns = svc.metadata?.namespace;
    const name = svc.metadata?.name;
    const desired: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace: ns, labels: svc.metadata?.labels },
      subsets: endpointSubsets(entries),
    };
    const current = this.endpoints.get(objectKey(svc));
    if (current && canonicalJson([current.subsets, current.metadata?.labels]) === canonicalJson([desired.subsets, desired.metadata?.labels])) return;
    await this.put(core('endpoints', ns), current, desired);
  }

  private async syncSlices(svc: Service, entries: EndpointEntry[]): Promise<void> {
    const existing = this.sliceIndex.ownedBy(svc.metadata?.uid ?? '').filter((s) => s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY);
    const desired = desiredSlices(svc, entries);
    for (const want of desired) {
      const cur = existing.find((s) => s.metadata?.name === want.metadata?.name);
      const same = cur && canonicalJson([cur.endpoints, cur.ports, cur.addressType, cur.metadata?.labels]) === canonicalJson([want.endpoints, want.ports, want.addressType, want.metadata?.labels]);
      if (!same) await this.put(slicesRef, cur, want);
    }
    for (const stale of existing.filter((s) => !desired.some((d) => d.metadata?.name === s.metadata?.name))) {
      await ignoreNotFound(deleteObject(this.ctx.client, { ...slicesRef, namespace: stale.metadata?.namespace, name: stale.metadata?.name }));
    }
  }

  /** Create, or update on top of the current version; a conflict re-queues through the work queue. */
  private async put<T extends KubeObject>(ref: ResourceRef, current: T | undefined, desired: T): Promise<void> {
    const ns = desired.metadata?.namespace;
    const target = { ...ref, namespace: ns };
    if (!current) {
      try {
        await this.ctx.client.create(target, desired);
        return;
      } catch (err) {
        if (!ApiError.isAlreadyExists(err)) throw err;
        current = await this.ctx.client.get<T>({ ...target, name: desired.metadata?.name });
      }
    }
    const body = { ...desired, metadata: { ...current.metadata, ...desired.metadata, resourceVersion: current.metadata?.resourceVersion } };
    await this.ctx.client.update({ ...target, name: desired.metadata?.name }, body);
  }
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!ApiError.isNotFound(err)) throw err;
  }
}
