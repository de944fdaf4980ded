import { child, emptySet, has, node, pathSet, only, without, withChild, type FieldSet } from './field-set';

/** Where a write lands: the main resource or one of its subresources. */
export interface WriteScope {
  /** e.g. "status"; undefined for the main resource. */
  subresource?: string;
  /** Whether the resource has a status subresource (then the main resource does not own status). */
  hasStatus: boolean;
}

/** Fields the server sets itself, which no manager owns (Kubernetes' stripped metadata). */
const serverMetadata = ['f:name', 'f:namespace', 'f:uid', 'f:creationTimestamp', 'f:selfLink', 'f:clusterName', 'f:generation', 'f:managedFields', 'f:resourceVersion', 'f:deletionTimestamp', 'f:deletionGracePeriodSeconds'];

/** Top-level fields that exist in every object, so nobody owns them as such, only what they hold. */
const alwaysPresent = ['f:metadata', 'f:spec', 'f:status'];

/**
 * The part of a set that ownership is recorded for: no apiVersion/kind, no server-set metadata,
 * and only what the write may change: a status write owns status (and metadata), a write to
 * the main resource of a kind with a status subresource does not own status, a scale write owns
 * spec.replicas.
 */
export function trackedFields(set: FieldSet, scope: WriteScope): FieldSet {
  let s = without(set, ['f:apiVersion', 'f:kind']);
  if (scope.subresource === 'status') s = only(s, ['f:metadata', 'f:status']);
  else if (scope.subresource === 'scale') return has(s, ['f:spec', 'f:replicas']) ? pathSet(['f:spec', 'f:replicas']) : emptySet;
  else if (scope.hasStatus) s = without(s, ['f:status']);
  s = withChild(s, 'f:metadata', without(child(s, 'f:metadata'), serverMetadata));
  for (const element of alwaysPresent) {
    const sub = s.children.get(element);
    if (sub?.member) s = withChild(s, element, node(false, sub.children));
  }
  return s;
}
