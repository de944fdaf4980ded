import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from 'kubernetes-types/rbac/v1';
import { PrefixMirror } from '../../store/prefix-mirror';
import type { Store } from '../../store/store';
import type { Identity } from '../identity';
import { ruleAllows, type RequestAttributes } from './policy-rule';

export const RBAC_PREFIX = '/registry/rbac.authorization.k8s.io/';
const CACHE_LIMIT = 10_000;

type Binding = RoleBinding | ClusterRoleBinding;

/**
 * The RBAC objects of the store, mirrored in memory, and what they grant to whom. Rules per
 * (user, groups, namespace) are cached until the next RBAC write, so deciding a request is a walk
 * over that user's own rules. A "no" first waits (up to catchUpMs) until the mirror has seen every
 * write made before the question, so a grant is in force as soon as its write returns.
 */
export class RbacPolicy extends PrefixMirror {
  private readonly clusterRoles = new Map<string, ClusterRole>();
  private readonly roles = new Map<string, Role>();
  private readonly clusterBindings = new Map<string, ClusterRoleBinding>();
  /** Namespace → name → RoleBinding. */
  private readonly bindings = new Map<string, Map<string, RoleBinding>>();
  private readonly cache = new Map<string, PolicyRule[]>();

  constructor(store: Store, onWatchError: (err: Error) => void, catchUpMs = 500) {
    super(store, RBAC_PREFIX, onWatchError, catchUpMs);
  }

  /** Whether RBAC grants the request; on "no", the reason names what would grant it. */
  async allows(who: Identity, a: RequestAttributes): Promise<boolean> {
    if (matchesAny(await this.rules(who, namespaceOf(a)), a)) return true;
    if (!(await this.caughtUp())) return false;
    return matchesAny(await this.rules(who, namespaceOf(a)), a);
  }

  /** Every rule that applies to the user in the namespace (cluster-wide rules only without one). */
  async rules(who: Identity, namespace: string | undefined): Promise<PolicyRule[]> {
    await this.ready();
    const key = `${who.user}\u0000${who.groups.join('\u0001')}\u0000${namespace ?? ''}`;
    let rules = this.cache.get(key);
    if (rules) return rules;
    rules = [];
    for (const b of this.clusterBindings.values()) if (applies(b, who, undefined)) rules.push(...this.roleRules(b, undefined));
    if (namespace) for (const b of this.bindings.get(namespace)?.values() ?? []) if (applies(b, who, namespace)) rules.push(...this.roleRules(b, namespace));
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, rules);
    return rules;
  }

  /** The rules of a Role (in namespace) or ClusterRole, as a binding refers to them. */
  async roleRulesOf(kind: string, name: string, namespace: string | undefined): Promise<PolicyRule[] | undefined> {
    await this.ready();
    if (kind === 'ClusterRole') return this.clusterRoles.get(name)?.rules ?? (this.clusterRoles.has(name) ? [] : undefined);
    const role = this.roles.get(`${namespace}/${name}`);
    return role ? (role.rules ?? []) : undefined;
  }

  /** Every ClusterRole, for aggregation. */
  async allClusterRoles(): Promise<ClusterRole[]> {
    await this.ready();
    return [...this.clusterRoles.values()];
  }

  private roleRules(b: Binding, namespace: string | undefined): PolicyRule[] {
    const ref = b.roleRef;
    if (ref.kind === 'ClusterRole') return this.clusterRoles.get(ref.name)?.rules ?? [];
    if (ref.kind === 'Role' && namespace) return this.roles.get(`${namespace}/${ref.name}`)?.rules ?? [];
    return [];
  }

  protected clear(): void {
    for (const m of [this.clusterRoles, this.roles, this.clusterBindings, this.bindings, this.cache]) m.clear();
  }

  protected put(key: string, value: Record<string, unknown> | undefined): void {
    const [plural, ...rest] = key.slice(RBAC_PREFIX.length).split('/');
    this.cache.clear();
    if (plural === 'clusterroles') setOrDelete(this.clusterRoles, rest[0], value as ClusterRole | undefined);
    else if (plural === 'clusterrolebindings') setOrDelete(this.clusterBindings, rest[0], value as ClusterRoleBinding | undefined);
    else if (plural === 'roles') setOrDelete(this.roles, `${rest[0]}/${rest[1]}`, value as Role | undefined);
    else if (plural === 'rolebindings') {
      let inNs = this.bindings.get(rest[0]);
      if (!inNs) this.bindings.set(rest[0], (inNs = new Map()));
      setOrDelete(inNs, rest[1], value as RoleBinding | undefined);
      if (inNs.size === 0) this.bindings.delete(rest[0]);
    }
  }
}

function setOrDelete<T>(m: Map<string, T>, key: string, value: T | undefined): void {
  if (value) m.set(key, value);
  else m.delete(key);
}

/** A Namespace object is in its own namespace for RBAC, so a RoleBinding there may grant reading it. */
function namespaceOf(a: RequestAttributes): string | undefined {
  if (a.resourceRequest && a.group === '' && a.resource === 'namespaces' && a.name) return a.name;
  return a.namespace;
}

function matchesAny(rules: PolicyRule[], a: RequestAttributes): boolean {
  for (const r of rules) if (ruleAllows(r, a)) return true;
  return false;
}

function applies(b: Binding, who: Identity, namespace: string | undefined): boolean {
  return (b.subjects ?? []).some((s) => subjectMatches(s, who, namespace));
}

export function subjectMatches(s: Subject, who: Identity, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === who.user;
    case 'Group':
      return who.groups.includes(s.name);
    case 'ServiceAccount':
      return who.user === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
    default:
      return false;
  }
}
