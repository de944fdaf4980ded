import type { Identity } from './identity';

export interface Attributes {
  verb: string;
  /** '' for non-resource paths. */
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export type Decision =
  | {
      allowed: true;
      /** the object (a pod) must be bound to this node; checked against the store */
      boundToNode?: string;
      /** the object (a Secret or ConfigMap) must be referenced by a pod bound to this node */
      referencedFromNode?: string;
    }
  | { allowed: false; reason: string };

const readVerbs = new Set(['get', 'list', 'watch']);
// Ingresses and their classes: every agent routes them (agent/ingress/). Claims and volumes: an
// agent mounts the claims of its pods and removes the directories of local volumes that are gone.
const nodeReadable = new Set(['pods', 'services', 'endpoints', 'endpointslices', 'nodes', 'namespaces', 'leases', 'events', 'ingresses', 'ingressclasses', 'persistentvolumeclaims', 'persistentvolumes']);
/**
 * Read one by one, and only when a pod on the node refers to them: a GET by name, or a list or
 * watch narrowed to that one object by fieldSelector=metadata.name=NAME (the request's name then,
 * as in Kubernetes), which the agent uses to learn of updates without asking again.
 */
const nodeReferenced = new Set(['secrets', 'configmaps']);

/**
 * The authorizers that need no policy objects: admin may do anything; a node writes only
 * its own Node, its own Lease, the status of pods bound to it (and deletes them once stopped), and
 * Events, and reads what it needs to run its pods: Secrets and ConfigMaps only when one of its
 * pods refers to them, so a compromised node cannot harvest the cluster's secrets. Users are
 * decided by RBAC (see access.ts).
 */
export function authorize(who: Identity, a: Attributes): Decision {
  switch (who.role) {
    case 'admin':
      return { allowed: true };
    case 'user':
      return deny('users are authorized by RBAC');
    case 'join':
      return deny('the join token may only be used to join a node (POST /lotse/v1/join)');
    case 'node':
      return authorizeNode(who.nodeName ?? '', a);
  }
}

function authorizeNode(node: string, a: Attributes): Decision {
  if (readVerbs.has(a.verb) && !a.subresource && nodeReadable.has(a.resource)) return { allowed: true };
  if (nodeReferenced.has(a.resource)) {
    if (readVerbs.has(a.verb) && a.name && !a.subresource) return { allowed: true, referencedFromNode: node };
    return deny(`a node may only get ${a.resource} by name (or list and watch them with fieldSelector=metadata.name=NAME), and only those its pods refer to`);
  }
  if (a.resource === 'nodes') {
    if (a.name !== node) return deny(`a node may only modify its own Node object "${node}"`);
    if (['create', 'update', 'patch', 'get'].includes(a.verb)) return { allowed: true };
    return deny(`a node may not ${a.verb} Node objects`);
  }
  if (a.resource === 'leases') {
    if (a.namespace !== 'kube-node-lease') return deny('a node may only write leases in kube-node-lease');
    if (a.name && a.name !== node) return deny(`a node may only write its own lease "${node}"`);
    if (['create', 'update', 'patch', 'get'].includes(a.verb)) return { allowed: true };
    return deny(`a node may not ${a.verb} leases`);
  }
  if (a.resource === 'pods') {
    if (a.subresource === 'status' && ['get', 'update', 'patch'].includes(a.verb)) return { allowed: true, boundToNode: node };
    if (!a.subresource && a.verb === 'delete') return { allowed: true, boundToNode: node };
    return deny('a node may only update the status of pods bound to it and delete them once stopped');
  }
  if (a.resource === 'events' && ['create', 'update', 'patch'].includes(a.verb)) return { allowed: true };
  // The token request handler checks that the token is bound to a pod on this node.
  if (a.resource === 'serviceaccounts' && a.subresource === 'token' && a.verb === 'create') return { allowed: true };
  return deny(`a node may not ${a.verb} ${a.resource}${a.subresource ? '/' + a.subresource : ''}`);
}

function deny(reason: string): Decision {
  return { allowed: false, reason };
}
