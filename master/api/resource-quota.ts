import { parseQuantity } from '../../kube/quantity';
import { formatQuotaUsage, quotaUsageOf, resourceOfQuotaKey } from '../../kube/quota-usage';
import type { Obj, Registry } from './registry';
import { isStored, resources, type ResourceInfo } from './resources';
import { HttpError } from './status';


type Quantities = Record<string, string | number>;
interface Container {
  name: string;
  resources?: { requests?: Quantities; limits?: Quantities };
}

const usageOf = (r: ResourceInfo, obj: Obj): Record<string, number> => quotaUsageOf(r.group, r.plural, obj);

function resourceOfKey(key: string): ResourceInfo | undefined {
  const target = resourceOfQuotaKey(key);
  return target ? resources.find((r) => r.plural === target.plural && r.group === target.group && isStored(r)) : undefined;
}

/** The namespace's usage of each key of hard, from the objects there now. */
export async function namespaceUsage(registry: Registry, namespace: string, hard: Quantities): Promise<Record<string, number>> {
  const used: Record<string, number> = {};
  const listed = new Map<string, Obj[]>();
  for (const key of Object.keys(hard)) {
    const r = resourceOfKey(key);
    used[key] = 0;
    if (!r) continue;
    let items = listed.get(r.plural);
    if (!items) listed.set(r.plural, (items = (await registry.list(r, namespace)).items));
    for (const item of items) used[key] += usageOf(r, item)[key] ?? 0;
  }
  return used;
}

/**
 * Kubernetes' ResourceQuota admission: a new object, or an update that uses more (a claim grown, a
 * Service turned NodePort), is refused (403, in the plugin's words) when it would take any quota of
 * its namespace over a hard limit it counts towards, or when a quota limits cpu or memory and a new
 * pod's container does not say how much it needs. Usage is computed from the objects there are
 * (two creates racing for the last unit may both pass; the quota controller shows the result).
 */
export async function admitQuota(registry: Registry, items: Obj[], r: ResourceInfo, namespace: string, obj: Obj, old?: Obj): Promise<void> {
  if (items.length === 0) return;
  const adds = usageOf(r, obj);
  if (old) {
    // An update is charged only what it adds; one that uses nothing more passes whatever the quota.
    const before = usageOf(r, old);
    for (const k of Object.keys(adds)) adds[k] -= before[k] ?? 0;
    if (!Object.values(adds).some((v) => v > 0)) return;
  }
  const name = String(obj.metadata?.name ?? obj.metadata?.generateName ?? '');
  for (const q of items) {
    const hard = ((q.spec as { hard?: Quantities } | undefined)?.hard ?? {});
    const counted = Object.keys(hard).filter((k) => adds[k] !== undefined);
    if (counted.length === 0) continue;
    const quotaName = String(q.metadata?.name);
    if (r.kind === 'Pod' && !old) requireRequests(quotaName, hard, obj, name);
    const used = await namespaceUsage(registry, namespace, Object.fromEntries(counted.map((k) => [k, hard[k]])));
    const over = counted.filter((k) => adds[k] > 0 && used[k] + adds[k] > parseQuantity(hard[k]));
    if (over.length === 0) continue;
    const list = (f: (k: string) => string): string => over.map((k) => `${k}=${f(k)}`).join(',');
    throw new HttpError(403, 'Forbidden', `${r.plural} "${name}" is forbidden: exceeded quota: ${quotaName}, requested: ${list((k) => formatQuotaUsage(k, adds[k]))}, used: ${list((k) => formatQuotaUsage(k, used[k]))}, limited: ${list((k) => String(hard[k]))}`, { name, kind: r.plural });
  }
}

function requireRequests(quotaName: string, hard: Quantities, pod: Obj, name: string): void {
  const containers = ((pod.spec as { containers?: Container[] } | undefined)?.containers ?? []);
  const missing: string[] = [];
  for (const key of Object.keys(hard)) {
    const m = /^(requests\.|limits\.)?(cpu|memory)$/.exec(key);
    if (!m) continue;
    const kind = m[1] === 'limits.' ? 'limits' : 'requests';
    const without = containers.filter((c) => c.resources?.[kind]?.[m[2]] === undefined).map((c) => c.name);
    if (without.length) missing.push(`${kind}.${m[2]} for: ${without.join(',')}`);
  }
  if (missing.length) throw new HttpError(403, 'Forbidden', `pods "${name}" is forbidden: failed quota: ${quotaName}: must specify ${missing.join('; ')}`, { name, kind: 'pods' });
}
