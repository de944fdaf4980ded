import { servedByLotse } from '../../kube/ingress-class';
import type { Ingress, IngressBackend, IngressClass } from 'kubernetes-types/networking/v1';
import type { Backend, ServicePortEntry } from '../proxy/service-table';

/** Where a matched request goes: a Service port and its ready endpoints (empty: 503). */
export interface RouteTarget {
  /** namespace/service:port, for logs and errors. */
  id: string;
  backends: Backend[];
}

interface PathRoute {
  type: 'Exact' | 'Prefix';
  /** Exact: the path as written. Prefix: without a trailing slash ('' for '/'), compared by segments. */
  path: string;
  target: RouteTarget;
}

/** A TLS certificate an Ingress asks for: its Secret and the hosts it serves (none: every host of the Ingress). */
export interface TlsReference {
  namespace: string;
  secretName: string;
  hosts: string[];
}

export interface IngressRouteInput {
  ingresses: Ingress[];
  classes: IngressClass[];
  services: ServicePortEntry[];
}

/**
 * The routing table of every Ingress of this controller's classes, as Kubernetes defines the
 * matching: an exact host beats a wildcard (`*.example.com`, one label) which beats rules without
 * a host; within a host, Exact paths beat Prefix paths and longer prefixes beat shorter ones,
 * prefixes matching whole path segments (`/foo` matches `/foo/bar`, not `/foobar`);
 * `ImplementationSpecific` is a Prefix here. Rules of all Ingresses for one host are merged, the
 * oldest Ingress winning a tie. A request no rule matches goes to the default backend, else 404.
 */
export class IngressRoutes {
  private readonly exactHosts = new Map<string, PathRoute[]>();
  private readonly wildcardHosts = new Map<string, PathRoute[]>();
  private readonly anyHost: PathRoute[] = [];
  private defaultTarget: RouteTarget | undefined;
  readonly tls: TlsReference[] = [];
  /** Ingresses served, as namespace/name. */
  readonly served: string[] = [];

  constructor(input: IngressRouteInput) {
    const ingresses = input.ingresses.filter((i) => servedByLotse(i, input.classes)).sort(byAge);
    for (const ing of ingresses) this.add(ing, input.services);
    for (const routes of [...this.exactHosts.values(), ...this.wildcardHosts.values(), this.anyHost]) routes.sort(byPrecedence);
  }

  /** Every endpoint some route leads to. */
  backends(): Backend[] {
    const all = [...this.exactHosts.values(), ...this.wildcardHosts.values(), this.anyHost].flat().flatMap((r) => r.target.backends);
    return [...all, ...(this.defaultTarget?.backends ?? [])];
  }

  /** The target for a request, or undefined (404). host may carry a port. */
  match(host: string | undefined, path: string): RouteTarget | undefined {
    const name = hostname(host);
    const routes = this.exactHosts.get(name) ?? this.wildcardHosts.get(wildcardOf(name)) ?? this.anyHost;
    const clean = path.split('?')[0] || '/';
    return routes.find((r) => pathMatches(r, clean))?.target ?? this.defaultTarget;
  }

  private add(ing: Ingress, services: ServicePortEntry[]): void {
    const namespace = ing.metadata?.namespace ?? 'default';
    this.served.push(`${namespace}/${ing.metadata?.name}`);
    const spec = ing.spec ?? {};
    if (spec.defaultBackend && !this.defaultTarget) this.defaultTarget = target(namespace, spec.defaultBackend, services);
    for (const rule of spec.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      const table = host === '' ? this.anyHost : host.startsWith('*.') ? list(this.wildcardHosts, host.slice(1)) : list(this.exactHosts, host);
      for (const p of rule.http?.paths ?? []) {
        const type = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
        const path = p.path ?? '/';
        table.push({ type, path: type === 'Exact' ? path : path.replace(/\/+$/, ''), target: target(namespace, p.backend, services) });
      }
    }
    for (const t of spec.tls ?? []) {
      if (!t.secretName) continue;
      const hosts = t.hosts?.length ? t.hosts : (spec.rules ?? []).map((r) => r.host ?? '').filter((h) => h);
      this.tls.push({ namespace, secretName: t.secretName, hosts: hosts.map((h) => h.toLowerCase()) });
    }
  }
}

function target(namespace: string, backend: IngressBackend | undefined, services: ServicePortEntry[]): RouteTarget {
  const svc = backend?.service;
  if (!svc) return { id: `${namespace}/<resource backend>`, backends: [] };
  const port = svc.port?.number ?? svc.port?.name ?? '';
  const entry = services.find((e) => e.namespace === namespace && e.name === svc.name && e.protocol === 'TCP' && (typeof port === 'number' ? e.port === port : e.portName === port));
  return { id: `${namespace}/${svc.name}:${port}`, backends: entry?.backends ?? [] };
}

function list(map: Map<string, PathRoute[]>, key: string): PathRoute[] {
  let routes = map.get(key);
  if (!routes) map.set(key, (routes = []));
  return routes;
}

function byAge(a: Ingress, b: Ingress): number {
  const ta = String(a.metadata?.creationTimestamp ?? '');
  const tb = String(b.metadata?.creationTimestamp ?? '');
  return ta < tb ? -1 : ta > tb ? 1 : `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`);
}

/** Exact before Prefix, then longer paths first; the sort is stable, so older Ingresses win ties. */
function byPrecedence(a: PathRoute, b: PathRoute): number {
  if (a.type !== b.type) return a.type === 'Exact' ? -1 : 1;
  return b.path.length - a.path.length;
}

function pathMatches(r: PathRoute, path: string): boolean {
  if (r.type === 'Exact') return path === r.path;
  if (r.path === '') return true;
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === r.path || path.startsWith(`${r.path}/`);
}

/** The host header's name: lower case, without the port (and without brackets of an IPv6 literal). */
export function hostname(host: string | undefined): string {
  const h = (host ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** `.example.com` for `foo.example.com`: the key a wildcard rule is stored under. */
function wildcardOf(name: string): string {
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(dot) : '\0';
}
