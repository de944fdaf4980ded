import type { Json } from './typed-value';
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

const serverMetadataFields = new Set(serverMetadata.map((e) => e.slice(2)));

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

type JsonObject = { [k: string]: Json };

/** The top-level fields trackedFields keeps for a scope (undefined: all but apiVersion and kind). */
function trackedTopLevel(scope: WriteScope): readonly string[] | undefined {
  if (scope.subresource === 'status') return ['metadata', 'status'];
  if (scope.subresource === 'scale') return ['spec'];
  return undefined;
}

/**
 * The part of an object whose fields trackedFields can keep: a shallow copy without the
 * top-level fields and server-set metadata it drops. Comparing these views instead of whole
 * objects gives the same tracked changes without walking status on a spec write, or the
 * managedFields list (atomic, so compared deep) on every write.
 */
export function trackedView(obj: Json, scope: WriteScope): Json {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return obj;
  const keep = trackedTopLevel(scope);
  const out: JsonObject = {};
  for (const k in obj) {
    if (keep ? !keep.includes(k) : k === 'apiVersion' || k === 'kind' || (k === 'status' && scope.hasStatus)) continue;
    out[k] = k === 'metadata' ? withoutServerMetadata(obj[k]) : obj[k];
  }
  return out;
}

function withoutServerMetadata(meta: Json): Json {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return meta;
  const out: JsonObject = {};
  for (const k in meta) if (!serverMetadataFields.has(k)) out[k] = meta[k];
  return out;
}
