import type { Identity } from '../auth/identity';
import { API_AUDIENCE, type BoundClaims, type ServiceAccountTokens } from '../auth/service-account-token';
import type { Obj, Registry } from './registry';
import { findResource, type ResourceInfo } from './resources';
import { errors } from './status';

const serviceAccounts = findResource('', 'v1', 'serviceaccounts') as ResourceInfo;
const pods = findResource('', 'v1', 'pods') as ResourceInfo;
const nodes = findResource('', 'v1', 'nodes') as ResourceInfo;
const tokenRequest = { kind: 'TokenRequest', group: 'authentication.k8s.io', plural: 'serviceaccounts/token' };

const DEFAULT_SECONDS = 3600;
/** Kubernetes' floor: shorter tokens would be rotated more often than clients can keep up with. */
const MIN_SECONDS = 600;
/** The longest token the master issues; a longer request gets this much, as with --service-account-max-token-expiration. */
export const MAX_SECONDS = 48 * 3600;

interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

/**
 * POST serviceaccounts/NAME/token (TokenRequest): a JWT for the ServiceAccount, optionally bound
 * to a pod so that it dies with the pod. A node may ask only for the ServiceAccount of a pod bound
 * to it, bound to that pod, as Kubernetes' node authorizer and NodeRestriction allow.
 */
export async function requestToken(registry: Registry, tokens: ServiceAccountTokens, who: Identity, namespace: string, name: string, body: Obj): Promise<Record<string, unknown>> {
  const spec = (body.spec ?? {}) as TokenRequestSpec;
  const seconds = spec.expirationSeconds ?? DEFAULT_SECONDS;
  if (!Number.isInteger(seconds) || seconds < MIN_SECONDS) {
    throw errors.invalid(tokenRequest, name, [{ field: 'spec.expirationSeconds', message: `Invalid value: ${JSON.stringify(seconds)}: may not specify a duration less than ${MIN_SECONDS} seconds` }]);
  }
  const audiences = spec.audiences?.length ? spec.audiences : [API_AUDIENCE];
  if (audiences.length > 16 || audiences.some((a) => typeof a !== 'string' || a.length === 0 || a.length > 512)) {
    throw errors.invalid(tokenRequest, name, [{ field: 'spec.audiences', message: 'Invalid value: at most 16 audiences of 1 to 512 characters' }]);
  }
  const sa = await registry.get(serviceAccounts, namespace, name);
  const claims: BoundClaims = { namespace, serviceaccount: { name, uid: String(sa.metadata?.uid) } };
  const ref = spec.boundObjectRef;
  if (ref) {
    if (ref.kind !== 'Pod') throw errors.invalid(tokenRequest, name, [{ field: 'spec.boundObjectRef.kind', message: `Unsupported value: "${ref.kind}": supported values: "Pod"` }]);
    // Every pod start asks for a token (its projected volume). What is read here never changes
    // once set (uid, ServiceAccount, node), so a list cache's copy of a bound pod with the uid
    // asked for answers as the store would, without a store read and parse of the whole pod.
    const pod = await registry.findCached(pods, namespace, String(ref.name ?? ''), (p) => Boolean((p.spec as { nodeName?: string } | undefined)?.nodeName) && (!ref.uid || ref.uid === p.metadata?.uid));
    if (!pod) throw errors.notFound(pods, String(ref.name ?? ''));
    if (ref.uid && ref.uid !== pod.metadata?.uid) throw errors.conflict(pods, String(ref.name));
    const podSpec = (pod.spec ?? {}) as { serviceAccountName?: string; nodeName?: string };
    if ((podSpec.serviceAccountName ?? 'default') !== name) {
      throw errors.badRequest(`pod "${ref.name}" runs as ServiceAccount "${podSpec.serviceAccountName ?? 'default'}", not "${name}": a token can only be bound to a pod of its own ServiceAccount`);
    }
    claims.pod = { name: String(pod.metadata?.name), uid: String(pod.metadata?.uid) };
    if (podSpec.nodeName) {
      const node = await registry.findCached(nodes, undefined, podSpec.nodeName);
      if (node) claims.node = { name: podSpec.nodeName, uid: String(node.metadata?.uid) };
    }
    if (who.role === 'node' && podSpec.nodeName !== who.nodeName) {
      throw errors.forbidden(who.user, 'create', `serviceaccounts/token "${name}"`, `pod "${ref.name}" is not bound to node ${who.nodeName}`);
    }
  } else if (who.role === 'node') {
    throw errors.forbidden(who.user, 'create', `serviceaccounts/token "${name}"`, 'a node may only request tokens bound to one of its pods');
  }
  const granted = Math.min(seconds, MAX_SECONDS);
  const exp = Math.floor(Date.now() / 1000) + granted;
  const token = tokens.sign({ sub: `system:serviceaccount:${namespace}:${name}`, aud: audiences, exp, 'kubernetes.io': claims });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds: granted, boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}
