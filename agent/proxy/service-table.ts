import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';

export type L4Protocol = 'TCP' | 'UDP';

/** One backend of a service port: where a new connection may be sent. */
export interface Backend {
  ip: string;
  port: number;
}

/**
 * One port of one service, flattened with the ready backends it currently has. Both proxy modes
 * (kernel rules, userspace listeners) are driven from a list of these and nothing else.
 */
export interface ServicePortEntry {
  /** namespace/name:portName (portName may be empty): stable across syncs, names rule chains. */
  id: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: L4Protocol;
  /** Undefined for headless services (no virtual IP to intercept). */
  clusterIP?: string;
  port: number;
  nodePort?: number;
  /** ClientIP affinity timeout in seconds, or undefined without affinity. */
  affinitySeconds?: number;
  /** Ready, non-terminating backends sorted by address, deduplicated. */
  backends: Backend[];
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const DEFAULT_AFFINITY_SECONDS = 10_800;

/**
 * Joins services with their EndpointSlices (by the kubernetes.io/service-name label). Slice ports
 * are matched by port name, so a named targetPort arrives already resolved per pod by the endpoints
 * controller. An endpoint counts when its ready condition is not false (unset means ready, as in
 * Kubernetes) and it is not terminating.
 */
export function buildServiceTable(services: Service[], slices: EndpointSlice[]): ServicePortEntry[] {
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const svcName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svcName || (slice.addressType && slice.addressType !== 'IPv4')) continue;
    const key = `${slice.metadata?.namespace}/${svcName}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
  }
  const out: ServicePortEntry[] = [];
  for (const svc of services) {
    const namespace = String(svc.metadata?.namespace ?? 'default');
    const name = String(svc.metadata?.name);
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') continue;
    const clusterIP = spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
    const affinitySeconds =
      spec.sessionAffinity === 'ClientIP' ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS : undefined;
    const svcSlices = slicesByService.get(`${namespace}/${name}`) ?? [];
    for (const sp of spec.ports ?? []) {
      const protocol = (sp.protocol ?? 'TCP') as string;
      if (protocol !== 'TCP' && protocol !== 'UDP') continue;
      const portName = sp.name ?? '';
      out.push({
        id: `${namespace}/${name}:${portName}`,
        namespace,
        name,
        portName,
        protocol,
        clusterIP,
        port: sp.port,
        nodePort: sp.nodePort,
        affinitySeconds,
        backends: readyBackends(svcSlices, portName, protocol),
      });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function readyBackends(slices: EndpointSlice[], portName: string, protocol: L4Protocol): Backend[] {
  const seen = new Map<string, Backend>();
  for (const slice of slices) {
    const port = slice.ports?.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol)?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
      for (const ip of ep.addresses ?? []) seen.set(`${ip}:${port}`, { ip, port });
    }
  }
  return [...seen.values()].sort((a, b) => compareIp(a.ip, b.ip) || a.port - b.port);
}

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
