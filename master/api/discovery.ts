import { createHash } from 'node:crypto';
import { compareVersions, type ResourceCatalog } from './resource-catalog';
import { apiVersionOf, isStored, verbsOf, type ResourceInfo } from './resources';

export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** True when the client asks for aggregated discovery v2 (kubectl 1.30+ does, with a fallback). */
export function wantsAggregated(accept: string | undefined): boolean {
  return /g=apidiscovery\.k8s\.io;\s*v=v2;\s*as=APIGroupDiscoveryList/.test(accept ?? '');
}

const subresourceVerbs: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  log: ['get'],
  exec: ['create', 'get'],
  portforward: ['create', 'get'],
  ephemeralcontainers: ['get', 'patch', 'update'],
  binding: ['create'],
  eviction: ['create'],
  finalize: ['update'],
  token: ['create'],
};

function subresourceKind(r: ResourceInfo, sub: string): { group: string; version: string; kind: string } {
  if (sub === 'scale') return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  if (sub === 'binding') return { group: '', version: 'v1', kind: 'Binding' };
  if (sub === 'eviction') return { group: 'policy', version: 'v1', kind: 'Eviction' };
  if (sub === 'token') return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
  if (sub === 'log' || sub === 'exec') return { group: '', version: 'v1', kind: sub === 'log' ? 'Pod' : 'PodExecOptions' };
  if (sub === 'attach') return { group: '', version: 'v1', kind: 'PodAttachOptions' };
  if (sub === 'portforward') return { group: '', version: 'v1', kind: 'PodPortForwardOptions' };
  return { group: r.group, version: r.version, kind: r.kind };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(catalog: ResourceCatalog): Record<string, unknown> {
  const groups = new Map<string, string[]>();
  for (const gv of catalog.groupVersions()) if (gv.group) groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => apiGroup(name, versions)),
  };
}

export function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: vs, preferredVersion: vs[0] };
}

export function apiResourceList(catalog: ResourceCatalog, group: string, version: string): Record<string, unknown> | undefined {
  const served = catalog.all().filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  const list: Record<string, unknown>[] = [];
  for (const r of served) {
    list.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: verbsOf(r),
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      ...(isStored(r) ? { storageVersionHash: storageVersionHash(r) } : {}),
    });
    for (const sub of r.subresources) {
      const k = subresourceKind(r, sub);
      list.push({ name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, kind: k.kind, ...(k.group !== r.group ? { group: k.group, version: k.version } : {}), verbs: subresourceVerbs[sub] ?? ['get'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: list };
}

/** APIGroupDiscoveryList for /api (core) or /apis (named groups). */
export function aggregatedDiscovery(catalog: ResourceCatalog, core: boolean): Record<string, unknown> {
  const byGroup = new Map<string, Map<string, ResourceInfo[]>>();
  for (const r of catalog.all()) {
    if ((r.group === '') !== core) continue;
    const versions = byGroup.get(r.group) ?? new Map<string, ResourceInfo[]>();
    versions.set(r.version, [...(versions.get(r.version) ?? []), r]);
    byGroup.set(r.group, versions);
  }
  const items = [...byGroup].map(([group, versions]) => ({
    metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
    versions: [...versions].sort(([a], [b]) => compareVersions(a, b)).map(([version, rs]) => ({
      version,
      freshness: 'Current',
      resources: rs.map((r) => ({
        resource: r.plural,
        responseKind: { group: r.group, version: r.version, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: r.singular,
        verbs: verbsOf(r),
        ...(r.shortNames ? { shortNames: r.shortNames } : {}),
        ...(r.categories ? { categories: r.categories } : {}),
        subresources: r.subresources.map((sub) => ({ subresource: sub, responseKind: subresourceKind(r, sub), verbs: subresourceVerbs[sub] ?? ['get'] })),
      })),
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

/**
 * The apiserver's fingerprint of where a resource is stored (group/version/kind of its storage
 * version): clients such as the storage-version migrator compare it to notice a change of storage version.
 */
export function storageVersionHash(r: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): string {
  return createHash('sha256').update(`${r.group}/${r.version}/${r.kind}`).digest().subarray(0, 8).toString('base64');
}
