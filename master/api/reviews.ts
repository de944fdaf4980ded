import type { PolicyRule } from 'kubernetes-types/rbac/v1';
import type { Access } from '../auth/access';
import type { Authenticator } from '../auth/authenticator';
import { identityOf, type Identity } from '../auth/identity';
import type { RequestAttributes } from '../auth/rbac/policy-rule';
import { API_AUDIENCE } from '../auth/service-account-token';
import type { Obj } from './registry';
import type { ResourceInfo } from './resources';
import { errors } from './status';

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface ReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  namespace?: string;
  token?: string;
  audiences?: string[];
}

const MAX_FIELD = 1024;

/**
 * The reviews that are asked and answered, never stored: access reviews (may this user do that?),
 * the rules review behind `kubectl auth can-i --list`, SelfSubjectReview (`kubectl auth whoami`)
 * and TokenReview. Each comes back as the request with its status filled in, 201 Created.
 */
export async function answerReview(r: ResourceInfo, namespace: string | undefined, body: Obj, who: Identity, access: Access, auth: Authenticator): Promise<Record<string, unknown>> {
  const spec = (body.spec ?? {}) as ReviewSpec;
  const base = { kind: r.kind, apiVersion: `${r.group}/${r.version}`, metadata: { creationTimestamp: null, ...(namespace ? { namespace } : {}) } };
  switch (r.kind) {
    case 'SelfSubjectAccessReview':
      return { ...base, spec, status: await accessStatus(access, who, spec, undefined) };
    case 'LocalSubjectAccessReview':
      if (spec.resourceAttributes?.namespace !== undefined && spec.resourceAttributes.namespace !== namespace) {
        throw errors.badRequest(`spec.resourceAttributes.namespace "${spec.resourceAttributes.namespace}" must match the namespace of the request "${namespace}"`);
      }
      return { ...base, spec, status: await accessStatus(access, subject(spec), spec, namespace) };
    case 'SubjectAccessReview':
      return { ...base, spec, status: await accessStatus(access, subject(spec), spec, undefined) };
    case 'SelfSubjectRulesReview': {
      const result = await access.rules(who, spec.namespace || undefined);
      return { ...base, spec, status: rulesStatus(result.rules, result.incomplete, result.error) };
    }
    case 'SelfSubjectReview':
      return { ...base, status: { userInfo: userInfo(who) } };
    case 'TokenReview':
      return { ...base, spec, status: await tokenStatus(auth, spec) };
  }
  throw errors.methodNotAllowed(`${r.kind} is not answered here`);
}

function subject(spec: ReviewSpec): Identity {
  if (!spec.user && !spec.groups?.length) throw errors.badRequest('spec.user or spec.groups is required: name the subject to review');
  if (String(spec.user ?? '').length > MAX_FIELD || (spec.groups ?? []).length > 256) throw errors.badRequest('spec.user or spec.groups is too long');
  return identityOf(spec.user ?? '', spec.groups ?? [], spec.uid, spec.extra);
}

async function accessStatus(access: Access, who: Identity, spec: ReviewSpec, namespace: string | undefined): Promise<Record<string, unknown>> {
  const a = attributes(spec, namespace);
  const d = await access.decide(who, a);
  if (d.allowed) return { allowed: true, ...(who.role === 'user' ? { reason: 'allowed by RBAC' } : {}) };
  // Kubernetes' RBAC authorizer gives a denial no reason (kubectl auth can-i prints a bare "no");
  // the node authorizer's reasons name the missing relationship, and stay.
  return who.role === 'user' ? { allowed: false } : { allowed: false, reason: d.reason };
}

function attributes(spec: ReviewSpec, namespace: string | undefined): RequestAttributes {
  const ra = spec.resourceAttributes;
  if (ra) {
    return { verb: ra.verb ?? '', resourceRequest: true, group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource || undefined, namespace: namespace ?? (ra.namespace || undefined), name: ra.name || undefined };
  }
  const nra = spec.nonResourceAttributes;
  if (nra) return { verb: nra.verb ?? '', resourceRequest: false, group: '', resource: '', path: nra.path ?? '' };
  throw errors.badRequest('exactly one of spec.resourceAttributes and spec.nonResourceAttributes must be set');
}

function rulesStatus(rules: PolicyRule[], incomplete: boolean, error?: string): Record<string, unknown> {
  return {
    resourceRules: rules.filter((r) => !r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) })),
    nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
    incomplete,
    ...(error ? { evaluationError: error } : {}),
  };
}

function userInfo(who: Identity): Record<string, unknown> {
  return { username: who.user, ...(who.uid ? { uid: who.uid } : {}), groups: who.groups, ...(who.extra ? { extra: who.extra } : {}) };
}

async function tokenStatus(auth: Authenticator, spec: ReviewSpec): Promise<Record<string, unknown>> {
  if (typeof spec.token !== 'string' || spec.token.length === 0) throw errors.badRequest('spec.token is required');
  const audiences = spec.audiences?.length ? spec.audiences : [API_AUDIENCE];
  const who = await auth.authenticateToken(spec.token, audiences);
  if (!who) return { authenticated: false, user: {}, error: 'the token is not valid: unknown, expired, for another audience, or its ServiceAccount or pod is gone' };
  return { authenticated: true, user: userInfo(who), audiences: spec.audiences?.length ? audiences : [API_AUDIENCE] };
}
