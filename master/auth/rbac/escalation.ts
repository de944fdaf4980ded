import type { ClusterRole, PolicyRule, Role, RoleBinding } from 'kubernetes-types/rbac/v1';
import { HttpError } from '../../api/status';
import type { Access } from '../access';
import type { Identity } from '../identity';
import { uncovered } from './policy-rule';

const GROUP = 'rbac.authorization.k8s.io';
const everything: PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }];

/**
 * Escalation prevention, as Kubernetes' RBAC storage does it: writing a Role or ClusterRole needs
 * every permission it grants (or the `escalate` verb on it); writing a binding needs every
 * permission of the role it binds (or the `bind` verb on that role). A binding's roleRef never
 * changes. `kind` is the kind being written, `namespace` where.
 */
export async function checkEscalation(access: Access, who: Identity, kind: string, namespace: string | undefined, obj: Record<string, unknown>, old: Record<string, unknown> | undefined): Promise<void> {
  const name = String((obj.metadata as { name?: string } | undefined)?.name ?? '');
  if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') checkRoleRef(kind, name, obj, old);
  if (who.role === 'admin') return;
  if (kind === 'Role' || kind === 'ClusterRole') {
    const plural = kind === 'Role' ? 'roles' : 'clusterroles';
    if (await allowed(access, who, 'escalate', plural, namespace, name)) return;
    const role = obj as Role & ClusterRole;
    // Aggregated rules are chosen by label, so only someone holding everything may aggregate.
    const wanted = role.aggregationRule ? everything : (role.rules ?? []);
    await requireCovered(access, who, namespace, wanted, `${kind.toLowerCase()} "${name}"`, 'escalate', plural);
    return;
  }
  const ref = (obj as unknown as RoleBinding).roleRef;
  if (await allowed(access, who, 'bind', ref.kind === 'Role' ? 'roles' : 'clusterroles', namespace, ref.name)) return;
  const rules = await access.rbac.roleRulesOf(ref.kind, ref.name, namespace);
  if (!rules) {
    throw new HttpError(403, 'Forbidden', `${kind.toLowerCase()}s.${GROUP} "${name}" is forbidden: the ${ref.kind} "${ref.name}" it binds does not exist, and only a holder of the bind verb on it may bind it before it does`, { name, group: GROUP, kind });
  }
  await requireCovered(access, who, namespace, rules, `${kind.toLowerCase()} "${name}"`, 'bind', ref.kind === 'Role' ? 'roles' : 'clusterroles');
}

/** A binding names a Role or ClusterRole (a ClusterRoleBinding only a ClusterRole), and never another one later. */
function checkRoleRef(kind: string, name: string, obj: Record<string, unknown>, old: Record<string, unknown> | undefined): void {
  const ref = (obj as unknown as RoleBinding).roleRef;
  const invalid = (message: string): HttpError => new HttpError(422, 'Invalid', `${kind} "${name}" is invalid: ${message}`, { name, group: GROUP, kind, causes: [{ field: 'roleRef', message }] });
  if (old) {
    const before = (old as unknown as RoleBinding).roleRef;
    if (before && (before.kind !== ref?.kind || before.name !== ref?.name || (before.apiGroup || GROUP) !== (ref?.apiGroup || GROUP))) {
      throw invalid(`roleRef: Invalid value: cannot change roleRef (delete the ${kind} and create it again with the new role)`);
    }
  }
  if (!ref || (ref.kind !== 'Role' && ref.kind !== 'ClusterRole') || !ref.name) throw invalid('roleRef: the kind must be Role or ClusterRole and the name set');
  if (kind === 'ClusterRoleBinding' && ref.kind !== 'ClusterRole') throw invalid(`roleRef.kind: Unsupported value: "${ref.kind}": supported values: "ClusterRole"`);
}

async function allowed(access: Access, who: Identity, verb: string, resource: string, namespace: string | undefined, name: string): Promise<boolean> {
  return (await access.decide(who, { verb, resourceRequest: true, group: GROUP, resource, namespace, name })).allowed;
}

async function requireCovered(access: Access, who: Identity, namespace: string | undefined, wanted: PolicyRule[], what: string, verb: string, plural: string): Promise<void> {
  const { rules } = await access.rules(who, namespace);
  const missing = uncovered(rules, wanted);
  if (missing.length === 0) return;
  const shown = missing.slice(0, 5).map(describe).join('; ') + (missing.length > 5 ? `; and ${missing.length - 5} more` : '');
  throw new HttpError(
    403,
    'Forbidden',
    `${what} is forbidden: user "${who.user}" (groups=${JSON.stringify(who.groups)}) is attempting to grant RBAC permissions not currently held: ${shown} (hold them yourself, or be granted the "${verb}" verb on ${plural}.${GROUP})`,
    { group: GROUP, kind: plural },
  );
}

function describe(r: PolicyRule): string {
  if (r.nonResourceURLs?.length) return `{NonResourceURLs:${JSON.stringify(r.nonResourceURLs)}, Verbs:${JSON.stringify(r.verbs)}}`;
  return `{APIGroups:${JSON.stringify(r.apiGroups)}, Resources:${JSON.stringify(r.resources)}${r.resourceNames?.length ? `, ResourceNames:${JSON.stringify(r.resourceNames)}` : ''}, Verbs:${JSON.stringify(r.verbs)}}`;
}
