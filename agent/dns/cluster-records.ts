import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { Answer, RecordType } from 'dns-packet';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Short, as CoreDNS's kubernetes plugin: clients notice a changed ClusterIP or endpoint quickly. */
export const RECORD_TTL = 5;

export type Lookup =
  | { kind: 'answer'; answers: Answer[] }
  /** The name exists but has no record of the asked type (NOERROR, empty answer). */
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  /** Not a cluster name: ask the node's upstream resolvers. */
  | { kind: 'forward' };

/**
 * The cluster's names, answered from the service and EndpointSlice caches:
 * SERVICE.NS.svc.DOMAIN → ClusterIP (headless: the ready endpoints' addresses),
 * HOSTNAME.SERVICE.NS.svc.DOMAIN → that endpoint (headless with hostnames),
 * _PORT._PROTO.SERVICE.NS.svc.DOMAIN → SRV. Anything else under DOMAIN does not exist.
 */
export function lookupClusterName(
  qname: string,
  qtype: RecordType,
  domain: string,
  services: (namespace: string, name: string) => Service | undefined,
  slices: (namespace: string, service: string) => EndpointSlice[],
): Lookup {
  const name = qname.toLowerCase().replace(/\.$/, '');
  const zone = domain.toLowerCase();
  if (name !== zone && !name.endsWith(`.${zone}`)) return { kind: 'forward' };
  const labels = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');
  // labels read right to left: svc, namespace, service, then hostname or _proto/_port.
  if (labels.length < 3 || labels[labels.length - 1] !== 'svc') return { kind: 'nxdomain' };
  const namespace = labels[labels.length - 2];
  const svcName = labels[labels.length - 3];
  const svc = services(namespace, svcName);
  if (!svc || svc.spec?.type === 'ExternalName') return { kind: 'nxdomain' };
  const rest = labels.slice(0, -3);
  const endpoints = readyEndpoints(slices(namespace, svcName));
  const headless = !svc.spec?.clusterIP || svc.spec.clusterIP === 'None';
  const svcFqdn = `${svcName}.${namespace}.svc.${zone}`;

  if (rest.length === 0) {
    if (!wants(qtype, 'A')) return { kind: 'nodata' };
    const ips = headless ? endpoints.map((e) => e.ip) : [String(svc.spec?.clusterIP)];
    if (ips.length === 0) return { kind: 'nodata' };
    return { kind: 'answer', answers: ips.map((ip) => a(name, ip)) };
  }
  if (rest.length === 1 && headless) {
    const ep = endpoints.find((e) => e.hostname === rest[0] || e.ip.replace(/\./g, '-') === rest[0]);
    if (!ep) return { kind: 'nxdomain' };
    return wants(qtype, 'A') ? { kind: 'answer', answers: [a(name, ep.ip)] } : { kind: 'nodata' };
  }
  if (rest.length === 2 && rest[0].startsWith('_') && rest[1].startsWith('_')) {
    const portName = rest[0].slice(1);
    const proto = rest[1].slice(1).toUpperCase();
    const port = svc.spec?.ports?.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === proto);
    if (!port) return { kind: 'nxdomain' };
    if (!wants(qtype, 'SRV')) return { kind: 'nodata' };
    return { kind: 'answer', answers: [{ type: 'SRV', name, ttl: RECORD_TTL, data: { priority: 0, weight: 100, port: port.port, target: svcFqdn } }] };
  }
  return { kind: 'nxdomain' };
}

/** ANY (type 255) is not in dns-packet's RecordType union but arrives decoded as 'ANY'. */
function wants(qtype: RecordType, type: RecordType): boolean {
  return qtype === type || (qtype as string) === 'ANY';
}

function a(name: string, ip: string): Answer {
  return { type: 'A', name, ttl: RECORD_TTL, data: ip };
}

function readyEndpoints(slices: EndpointSlice[]): { ip: string; hostname?: string }[] {
  const out = new Map<string, { ip: string; hostname?: string }>();
  for (const slice of slices) {
    if (slice.addressType && slice.addressType !== 'IPv4') continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) out.set(ip, { ip, hostname: ep.hostname?.toLowerCase() });
    }
  }
  return [...out.values()].sort((x, y) => (x.ip < y.ip ? -1 : 1));
}

export { SERVICE_NAME_LABEL };
