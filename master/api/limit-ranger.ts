import { parseQuantity } from '../../kube/quantity';
import type { Obj } from './registry';
import { HttpError } from './status';

type Quantities = Record<string, string | number>;
interface LimitItem {
  type?: string;
  default?: Quantities;
  defaultRequest?: Quantities;
  min?: Quantities;
  max?: Quantities;
  maxLimitRequestRatio?: Quantities;
}
interface Container {
  name: string;
  resources?: { requests?: Quantities; limits?: Quantities };
}

/**
 * What the API defaults in a LimitRange, as Kubernetes does: for Container items, `default` comes
 * from `max` and `defaultRequest` from `default` (then from `min`) when absent.
 */
export function defaultLimitRange(obj: Obj): void {
  for (const item of ((obj.spec as { limits?: LimitItem[] } | undefined)?.limits ?? [])) {
    if (item.type !== 'Container') continue;
    for (const [k, v] of Object.entries(item.max ?? {})) if (item.default?.[k] === undefined) item.default = { ...(item.default ?? {}), [k]: v };
    for (const [k, v] of Object.entries(item.default ?? {})) if (item.defaultRequest?.[k] === undefined) item.defaultRequest = { ...(item.defaultRequest ?? {}), [k]: v };
    for (const [k, v] of Object.entries(item.min ?? {})) if (item.defaultRequest?.[k] === undefined) item.defaultRequest = { ...(item.defaultRequest ?? {}), [k]: v };
  }
}

/**
 * Kubernetes' LimitRanger admission for a new pod: every container without a request or limit
 * gets the namespace's Container defaults (and the annotation that says so), then requests and
 * limits are checked against min, max and maxLimitRequestRatio of every Container and Pod item;
 * a violation is a 403 in the plugin's words.
 */
export function admitLimitRanges(items: Obj[], pod: Obj): void {
  if (items.length === 0) return;
  const limits = items.flatMap((lr) => ((lr.spec as { limits?: LimitItem[] } | undefined)?.limits ?? []));
  const spec = (pod.spec ?? {}) as { containers?: Container[]; initContainers?: Container[] };
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const set: string[] = [];
  for (const item of limits.filter((l) => l.type === 'Container')) for (const c of containers) set.push(...applyDefaults(item, c));
  const name = String(pod.metadata?.name ?? pod.metadata?.generateName ?? '');
  const problems = [
    ...limits.filter((l) => l.type === 'Container').flatMap((item) => containers.flatMap((c) => check(item, c.resources?.requests ?? {}, c.resources?.limits ?? {}, 'Container'))),
    ...limits.filter((l) => l.type === 'Pod').flatMap((item) => check(item, sum(containers, 'requests'), sum(containers, 'limits'), 'Pod')),
  ];
  if (problems.length > 0) throw new HttpError(403, 'Forbidden', `pods "${name}" is forbidden: [${problems.join(', ')}]`, { name, kind: 'pods' });
  if (set.length > 0) pod.metadata = { ...(pod.metadata ?? {}), annotations: { ...(pod.metadata?.annotations ?? {}), 'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${set.join('; ')}` } };
}

function applyDefaults(item: LimitItem, c: Container): string[] {
  const r = (c.resources ??= {});
  const setLimits = Object.keys(item.default ?? {}).filter((k) => r.limits?.[k] === undefined);
  const setRequests = Object.keys(item.defaultRequest ?? {}).filter((k) => r.requests?.[k] === undefined);
  if (setLimits.length) r.limits = { ...(r.limits ?? {}), ...Object.fromEntries(setLimits.map((k) => [k, (item.default as Quantities)[k]])) };
  if (setRequests.length) r.requests = { ...(r.requests ?? {}), ...Object.fromEntries(setRequests.map((k) => [k, (item.defaultRequest as Quantities)[k]])) };
  const said: string[] = [];
  if (setRequests.length) said.push(`${setRequests.join(', ')} request for container ${c.name}`);
  if (setLimits.length) said.push(`${setLimits.join(', ')} limit for container ${c.name}`);
  return said;
}

function check(item: LimitItem, requests: Quantities, limits: Quantities, what: string): string[] {
  const out: string[] = [];
  for (const [k, min] of Object.entries(item.min ?? {})) {
    const req = requests[k];
    if (req === undefined) out.push(`minimum ${k} usage per ${what} is ${min}.  No request is specified`);
    else if (parseQuantity(req) < parseQuantity(min)) out.push(`minimum ${k} usage per ${what} is ${min}, but request is ${req}`);
  }
  for (const [k, max] of Object.entries(item.max ?? {})) {
    const lim = limits[k];
    if (lim === undefined) out.push(`maximum ${k} usage per ${what} is ${max}.  No limit is specified`);
    else if (parseQuantity(lim) > parseQuantity(max)) out.push(`maximum ${k} usage per ${what} is ${max}, but limit is ${lim}`);
  }
  for (const [k, ratio] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const lim = limits[k];
    const req = requests[k];
    if (lim === undefined || req === undefined || parseQuantity(req) === 0) continue;
    const actual = parseQuantity(lim) / parseQuantity(req);
    if (actual > parseQuantity(ratio)) out.push(`${k} max limit to request ratio per ${what} is ${ratio}, but provided ratio is ${Math.round(actual * 1000) / 1000}`);
  }
  return out;
}

function sum(containers: Container[], kind: 'requests' | 'limits'): Quantities {
  const out: Record<string, number> = {};
  for (const c of containers) for (const [k, v] of Object.entries(c.resources?.[kind] ?? {})) out[k] = (out[k] ?? 0) + parseQuantity(v);
  return out;
}
