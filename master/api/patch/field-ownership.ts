import type { Obj } from '../registry';
import { difference, emptySet, intersection, isEmpty, union, type FieldSet } from './field-set';
import type { FieldType } from './field-type';
import { decodeManagedFields, encodeManagedFields, identityKey, isResetMarker, managedTime, type ManagerIdentity, type Owner, type Owners } from './managed-fields';
import { trackedFields, trackedView, type WriteScope } from './tracked-fields';
import { allPathsOf, compare, type Json } from './typed-value';

/** What a write changed, restricted to the fields ownership is recorded for. */
export interface Changes {
  /** Fields the write added or gave a new value. */
  changed: FieldSet;
  removed: FieldSet;
}

export function changesBetween(before: Obj | undefined, after: Obj, type: FieldType, scope: WriteScope): Changes {
  const next = trackedView(after as unknown as Json, scope);
  // A create adds every path: no need to compare with nothing.
  if (!before) return { changed: trackedFields(allPathsOf(next, type), scope), removed: emptySet };
  const c = compare(trackedView(before as unknown as Json, scope), next, type);
  return { changed: trackedFields(union(c.added, c.modified), scope), removed: trackedFields(c.removed, scope) };
}

/**
 * Structured-merge-diff's ownership transfer: the fields a write changed are taken from every
 * other owner (returned as conflicts, so that apply can refuse them), and fields the write
 * removed are owned by nobody any more. Owners left with nothing are dropped.
 */
export function takeOwnership(owners: Owners, writer: string, changes: Changes): { owners: Map<string, Owner>; conflicts: Map<string, FieldSet> } {
  const next = new Map<string, Owner>();
  const conflicts = new Map<string, FieldSet>();
  for (const [key, owner] of owners) {
    if (key === writer) {
      next.set(key, owner);
      continue;
    }
    const conflict = intersection(owner.fields, changes.changed);
    if (!isEmpty(conflict)) conflicts.set(key, conflict);
    const fields = difference(difference(owner.fields, changes.changed), changes.removed);
    if (!isEmpty(fields)) next.set(key, fields === owner.fields ? owner : { ...owner, fields });
  }
  return { owners: next, conflicts };
}

/**
 * The owners a non-apply write starts from: those the client sent when it sent valid ones (so
 * that a PUT or patch may rewrite them, and `[{}]` clears them), else the live object's.
 * Subresource writes and creates never take the client's.
 */
export function ownersBefore(live: Obj | undefined, next: Obj, scope: WriteScope): Owners {
  if (!live) return new Map();
  const sent = next.metadata?.managedFields;
  if (!scope.subresource) {
    if (isResetMarker(sent)) return new Map();
    if (Array.isArray(sent) && sent.length > 0) {
      try {
        return decodeManagedFields(sent);
      } catch {
        // Kubernetes falls back to the live entries when the client's cannot be read.
      }
    }
  }
  return liveOwners(live);
}

/** The live object's owners; unreadable entries are dropped rather than failing every write. */
export function liveOwners(live: Obj): Owners {
  try {
    return decodeManagedFields(live.metadata?.managedFields);
  } catch {
    return new Map();
  }
}

export interface UpdateWrite {
  identity: ManagerIdentity;
  scope: WriteScope;
  type: FieldType;
}

/**
 * Records a create, update or non-apply patch in `next.metadata.managedFields`: the writer's
 * Update entry gains the fields whose values it changed, which leave their other owners.
 * The entry's time moves only when the write changed something, so a no-op stays a no-op.
 */
export function recordUpdate(live: Obj | undefined, next: Obj, write: UpdateWrite): void {
  const before = ownersBefore(live, next, write.scope);
  const changes = changesBetween(live, next, write.type, write.scope);
  const key = identityKey(write.identity);
  const { owners } = takeOwnership(before, key, changes);
  const previous = owners.get(key);
  const fields = union(difference(previous?.fields ?? emptySet, changes.removed), changes.changed);
  const time = isEmpty(changes.changed) ? previous?.time : managedTime();
  owners.set(key, { ...write.identity, ...(time ? { time } : {}), fields });
  setManagedFields(next, owners);
}

export function setManagedFields(obj: Obj, owners: Owners): void {
  const meta = (obj.metadata ??= {});
  const entries = encodeManagedFields(owners);
  if (entries.length > 0) meta.managedFields = entries;
  else delete meta.managedFields;
}
