import type { PolicyRule } from 'kubernetes-types/rbac/v1';

export type { PolicyRule };

/** What one request asks to do, as RBAC sees it. */
export interface RequestAttributes {
  verb: string;
  /** A resource request; false for a non-resource path such as /api or /metrics. */
  resourceRequest: boolean;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The URL path of a non-resource request. */
  path?: string;
}

const has = (list: string[] | undefined, value: string): boolean => !!list && (list.includes('*') || list.includes(value));

/** Whether one rule grants the request, with Kubernetes wildcards: "*" anywhere, "*" followed by a subresource, a URL prefix ending in "*". */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceMatches(rule.nonResourceURLs, a.path ?? '');
  if (rule.nonResourceURLs?.length && !rule.resources?.length) return false;
  if (!has(rule.apiGroups, a.group)) return false;
  if (!resourceMatches(rule.resources, a.resource, a.subresource)) return false;
  return !rule.resourceNames?.length || (!!a.name && rule.resourceNames.includes(a.name));
}

function resourceMatches(resources: string[] | undefined, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

function nonResourceMatches(urls: string[] | undefined, path: string): boolean {
  for (const u of urls ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/**
 * Whether `owner` grants everything `servant` would, so that a user holding `owner` may hand
 * `servant` out: each servant rule is broken into single (group, resource, verb, name) grants, and
 * every one must be allowed by some owner rule. Wildcards in the servant are covered only by
 * wildcards in the owner. Returns the grants not covered.
 */
export function uncovered(owner: PolicyRule[], servant: PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of servant) {
    for (const atom of atoms(rule)) if (!owner.some((o) => covers(o, atom))) missing.push(atom);
  }
  return missing;
}

function atoms(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs ?? []) {
    for (const url of rule.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        if (rule.resourceNames?.length) for (const name of rule.resourceNames) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
        else out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
      }
    }
  }
  return out;
}

/** Whether owner covers one atomic rule (one verb, one group/resource/name or one URL). */
function covers(owner: PolicyRule, atom: PolicyRule): boolean {
  const verb = atom.verbs[0];
  if (!has(owner.verbs, verb)) return false;
  if (atom.nonResourceURLs?.length) {
    const url = atom.nonResourceURLs[0];
    return (owner.nonResourceURLs ?? []).some((u) => u === '*' || u === url || (u.endsWith('*') && url.startsWith(u.slice(0, -1))));
  }
  const group = (atom.apiGroups ?? [])[0];
  const resource = (atom.resources ?? [])[0];
  if (!has(owner.apiGroups, group)) return false;
  const [res, sub] = resource.split('/', 2);
  const resourceOk = (owner.resources ?? []).some((r) => r === '*' || r === resource || (sub !== undefined && res !== '*' && r === `*/${sub}`));
  if (!resourceOk) return false;
  if (!owner.resourceNames?.length) return true;
  return !!atom.resourceNames?.length && owner.resourceNames.includes(atom.resourceNames[0]);
}
