import type { IncomingMessage } from 'node:http';
import { HttpError } from '../api/status';
import type { Access } from './access';
import { identityOf, parseServiceAccountUser, type Identity } from './identity';

const EXTRA_PREFIX = 'impersonate-extra-';
const MAX_VALUES = 64;

/**
 * Kubernetes' impersonation headers (kubectl --as, --as-group, --as-uid): the request runs as the
 * named user if the caller may `impersonate` that user (or ServiceAccount), each group, the uid
 * and each extra value. Without the headers the caller stays who it is.
 */
export async function impersonate(access: Access, who: Identity, req: IncomingMessage): Promise<Identity> {
  const h = distinctHeaders(req);
  const user = h['impersonate-user']?.[0];
  const groups = h['impersonate-group'] ?? [];
  const uid = h['impersonate-uid']?.[0];
  const extraKeys = Object.keys(h).filter((k) => k.startsWith(EXTRA_PREFIX));
  if (user === undefined) {
    if (groups.length || uid !== undefined || extraKeys.length) throw new HttpError(400, 'BadRequest', 'impersonating groups, a uid or extra fields requires a user: add Impersonate-User (kubectl --as)');
    return who;
  }
  if (groups.length > MAX_VALUES || extraKeys.length > MAX_VALUES) throw new HttpError(400, 'BadRequest', `at most ${MAX_VALUES} impersonated groups and extra fields`);
  const sa = parseServiceAccountUser(user);
  await mayImpersonate(access, who, sa ? { resource: 'serviceaccounts', group: '', namespace: sa.namespace, name: sa.name } : { resource: 'users', group: '', name: user }, `user "${user}"`);
  for (const g of groups) await mayImpersonate(access, who, { resource: 'groups', group: '', name: g }, `group "${g}"`);
  if (uid !== undefined) await mayImpersonate(access, who, { resource: 'uids', group: 'authentication.k8s.io', name: uid }, `uid "${uid}"`);
  const extra: Record<string, string[]> = {};
  for (const k of extraKeys) {
    const key = decodeURIComponent(k.slice(EXTRA_PREFIX.length));
    extra[key] = h[k] ?? [];
    for (const v of extra[key]) await mayImpersonate(access, who, { resource: 'userextras', subresource: key, group: 'authentication.k8s.io', name: v }, `extra "${key}=${v}"`);
  }
  // A ServiceAccount impersonated without groups gets the groups its token would carry.
  const asGroups = groups.length === 0 && sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`] : groups;
  return identityOf(user, asGroups, uid, extra);
}

/**
 * Each header's values, repeated fields kept apart (Impersonate-Group once per group). HTTP/2
 * requests (Node's compatibility API) have no headersDistinct; their raw name/value pairs say the same.
 */
function distinctHeaders(req: IncomingMessage): NodeJS.Dict<string[]> {
  if (req.headersDistinct) return req.headersDistinct;
  const out: NodeJS.Dict<string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    (out[name] ??= []).push(req.rawHeaders[i + 1]);
  }
  return out;
}

async function mayImpersonate(access: Access, who: Identity, target: { resource: string; group: string; subresource?: string; namespace?: string; name: string }, what: string): Promise<void> {
  const d = await access.decide(who, { verb: 'impersonate', resourceRequest: true, ...target });
  if (!d.allowed) {
    const res = target.group ? `${target.resource}.${target.group}` : target.resource;
    throw new HttpError(403, 'Forbidden', `${res} "${target.name}" is forbidden: User "${who.user}" cannot impersonate ${what}: ${d.reason}`, { name: target.name, group: target.group, kind: target.resource });
  }
}
