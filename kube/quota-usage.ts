import { formatBytes, parseQuantity } from './quantity';

/**
 * What ResourceQuota keys mean, shared by the API's quota admission and the quota controller:
 * which objects a key counts, and how much one object adds to it.
 */

type Quantities = Record<string, string | number>;
interface Container {
  name: string;
  resources?: { requests?: Quantities; limits?: Quantities };
}
interface Counted {
  metadata?: { name?: string };
  spec?: unknown;
  status?: unknown;
}

/** Resources a quota counts under their plain name (besides `count/RESOURCE[.GROUP]`). */
const plainCounts = new Set(['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas']);

/** The resource (group and plural) whose objects a quota key counts, or undefined for keys lotse does not compute. */
export function resourceOfQuotaKey(key: string): { group: string; plural: string } | undefined {
  if (key.startsWith('count/')) {
    const [plural, ...group] = key.slice('count/'.length).split('.');
    return { group: group.join('.'), plural };
  }
  if (plainCounts.has(key)) return { group: '', plural: key };
  if (/^(requests\.|limits\.)?(cpu|memory|ephemeral-storage)$/.test(key)) return { group: '', plural: 'pods' };
  if (key === 'services.nodeports' || key === 'services.loadbalancers') return { group: '', plural: 'services' };
  if (key === 'requests.storage') return { group: '', plural: 'persistentvolumeclaims' };
  return undefined;
}

/** What one object of group/plural adds to each quota key it counts towards (finished pods: nothing). */
export function quotaUsageOf(group: string, plural: string, obj: Counted): Record<string, number> {
  const out: Record<string, number> = { [`count/${group ? `${plural}.${group}` : plural}`]: 1 };
  if (group === '' && plainCounts.has(plural)) out[plural] = 1;
  if (group === '' && plural === 'pods') {
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return {};
    const containers = (obj.spec as { containers?: Container[] } | undefined)?.containers ?? [];
    for (const res of ['cpu', 'memory', 'ephemeral-storage']) {
      const req = containers.reduce((n, c) => n + parseQuantity(c.resources?.requests?.[res] ?? 0), 0);
      out[`requests.${res}`] = req;
      out[res] = req;
      out[`limits.${res}`] = containers.reduce((n, c) => n + parseQuantity(c.resources?.limits?.[res] ?? 0), 0);
    }
  }
  if (group === '' && plural === 'services') {
    const spec = (obj.spec ?? {}) as { type?: string; ports?: unknown[] };
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') out['services.nodeports'] = (spec.ports ?? []).length;
    if (spec.type === 'LoadBalancer') out['services.loadbalancers'] = 1;
  }
  if (group === '' && plural === 'persistentvolumeclaims') {
    out['requests.storage'] = parseQuantity((obj.spec as { resources?: { requests?: Quantities } } | undefined)?.resources?.requests?.storage ?? 0);
  }
  return out;
}

/** Usage as Kubernetes prints it: cpu in millicores when fractional, bytes in the largest binary unit that divides them, counts whole. */
export function formatQuotaUsage(key: string, value: number): string {
  if (/cpu$/.test(key) && !Number.isInteger(value)) return `${Math.round(value * 1000)}m`;
  if (/(memory|storage)$/.test(key)) return formatBytes(Math.round(value));
  return String(Math.round(value));
}
