import type { PolicyRule } from 'kubernetes-types/rbac/v1';
import { authorize, type Decision } from './authorizer';
import type { Identity } from './identity';
import type { RbacPolicy } from './rbac/rbac-policy';
import type { RequestAttributes } from './rbac/policy-rule';

/** Paths a node reads besides its resources: discovery, OpenAPI, health and version. */
const nodePaths = /^\/(api|apis|openapi|version|healthz|livez|readyz)(\/|$)/;

/**
 * The authorizer chain, in Kubernetes' order: the admin (system:masters) may do anything; a node
 * answers to the node authorizer alone (strict, with its per-object checks); the join token may
 * only join; everyone else is decided by RBAC.
 */
export class Access {
  constructor(readonly rbac: RbacPolicy) {}

  async decide(who: Identity, a: RequestAttributes): Promise<Decision> {
    if (who.role === 'admin') return { allowed: true };
    if (who.role === 'node' && !a.resourceRequest) {
      return a.verb === 'get' && nodePaths.test(a.path ?? '') ? { allowed: true } : { allowed: false, reason: `a node may not ${a.verb} ${a.path}` };
    }
    if (who.role !== 'user') return authorize(who, { verb: a.verb, group: a.group, resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name });
    if (await this.rbac.allows(who, a)) return { allowed: true };
    return { allowed: false, reason: rbacDenial(a) };
  }

  /**
   * The rules that hold for the user in the namespace, for SelfSubjectRulesReview; incomplete
   * when another authorizer than RBAC decides for this user.
   */
  async rules(who: Identity, namespace: string | undefined): Promise<{ rules: PolicyRule[]; incomplete: boolean; error?: string }> {
    if (who.role === 'node') return { rules: [], incomplete: true, error: 'the node authorizer decides per object and cannot list its rules' };
    if (who.role === 'join') return { rules: [], incomplete: false };
    return { rules: await this.rbac.rules(who, namespace), incomplete: false };
  }
}

function rbacDenial(a: RequestAttributes): string {
  if (!a.resourceRequest) return `no RBAC rule grants ${a.verb} on the non-resource URL ${a.path} (a ClusterRole with nonResourceURLs, bound by a ClusterRoleBinding, would)`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `no RBAC rule grants ${a.verb} on resource "${res}" in API group "${a.group}" ${where} (bind a Role or ClusterRole that does, with a RoleBinding or ClusterRoleBinding)`;
}
