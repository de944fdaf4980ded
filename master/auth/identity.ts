/**
 * Who a request comes from, as the authenticator establishes it. The role picks the authorizer:
 * `admin` (group system:masters) may do anything, `node` answers to the node authorizer, `join`
 * may only join, and everyone else (`user`: the viewer, ServiceAccounts, impersonated users) is
 * decided by RBAC from the user name and groups.
 */
export type Role = 'admin' | 'node' | 'join' | 'user';

export interface Identity {
  user: string;
  groups: string[];
  role: Role;
  uid?: string;
  /** Further facts about the credential (pod of a bound token, ...), as Kubernetes' UserInfo.extra. */
  extra?: Record<string, string[]>;
  /** Set for role 'node': the only Node this identity may act for. */
  nodeName?: string;
}

export const AUTHENTICATED = 'system:authenticated';
export const MASTERS = 'system:masters';
export const NODES = 'system:nodes';
export const VIEWERS = 'lotse:viewers';

export const adminIdentity: Identity = { user: 'lotse:admin', groups: [MASTERS, AUTHENTICATED], role: 'admin' };
export const viewerIdentity: Identity = { user: 'lotse:viewer', groups: [VIEWERS, AUTHENTICATED], role: 'user' };
export const joinIdentity: Identity = { user: 'lotse:join', groups: ['system:bootstrappers', AUTHENTICATED], role: 'join' };

export function nodeIdentity(nodeName: string): Identity {
  return { user: `system:node:${nodeName}`, groups: [NODES, AUTHENTICATED], role: 'node', nodeName };
}

export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

/** The namespace and name in a `system:serviceaccount:NS:NAME` user name. */
export function parseServiceAccountUser(user: string): { namespace: string; name: string } | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  return m ? { namespace: m[1], name: m[2] } : undefined;
}

export function serviceAccountIdentity(namespace: string, name: string, uid: string, extra: Record<string, string[]>): Identity {
  return { user: serviceAccountUser(namespace, name), uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTHENTICATED], role: 'user', extra };
}

/**
 * The identity a user name and groups stand for when no credential says more (impersonation,
 * SubjectAccessReview): system:masters is the admin, a node's name in system:nodes is that node.
 */
export function identityOf(user: string, groups: string[], uid?: string, extra?: Record<string, string[]>): Identity {
  const all = groups.includes(AUTHENTICATED) || user === 'system:anonymous' ? groups : [...groups, AUTHENTICATED];
  const node = /^system:node:(.+)$/.exec(user);
  const base = { user, groups: all, ...(uid ? { uid } : {}), ...(extra && Object.keys(extra).length ? { extra } : {}) };
  if (all.includes(MASTERS)) return { ...base, role: 'admin' };
  if (node && all.includes(NODES)) return { ...base, role: 'node', nodeName: node[1] };
  return { ...base, role: 'user' };
}
