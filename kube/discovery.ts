import type { KubeClient } from './client';
import type { ResourceRef } from './resource-path';

interface ApiResource {
  name: string;
  namespaced: boolean;
  verbs?: string[];
}

interface GroupList {
  groups?: { name: string; preferredVersion?: { version: string } }[];
}

/**
 * Every namespaced resource the server serves that can be listed and deleted, from legacy
 * discovery (/api/v1 and each group's preferred version), as Kubernetes' namespace controller
 * finds what to empty: a kind added to the server later is covered without a list to keep.
 */
export async function deletableNamespacedResources(client: KubeClient): Promise<ResourceRef[]> {
  const versions: { group: string; version: string }[] = [{ group: '', version: 'v1' }];
  const groups = JSON.parse((await client.raw('GET', '/apis')).body) as GroupList;
  for (const g of groups.groups ?? []) if (g.preferredVersion) versions.push({ group: g.name, version: g.preferredVersion.version });
  const out: ResourceRef[] = [];
  for (const gv of versions) {
    const path = gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
    const res = await client.raw('GET', path);
    if (res.status !== 200) continue;
    const list = JSON.parse(res.body) as { resources?: ApiResource[] };
    for (const r of list.resources ?? []) {
      if (!r.namespaced || r.name.includes('/')) continue;
      const verbs = new Set(r.verbs ?? []);
      if (verbs.has('list') && verbs.has('delete')) out.push({ group: gv.group, version: gv.version, resource: r.name });
    }
  }
  return out;
}

/**
 * The resource that serves a kind (apiVersion "stable.example.com/v1", kind "CronTab"), from the
 * group-version's discovery document, or undefined when the server does not serve it.
 */
export async function resourceForKind(client: KubeClient, apiVersion: string, kind: string): Promise<(ResourceRef & { namespaced: boolean }) | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const res = await client.raw('GET', group ? `/apis/${group}/${version}` : `/api/${version}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`discovery of ${apiVersion} answered ${res.status}: ${res.body.slice(0, 200)}`);
  const list = JSON.parse(res.body) as { resources?: (ApiResource & { kind?: string })[] };
  const found = (list.resources ?? []).find((r) => r.kind === kind && !r.name.includes('/'));
  return found ? { group, version, resource: found.name, namespaced: found.namespaced } : undefined;
}
