import type { Obj } from '../registry';
import { errors } from '../status';
import { difference, isEmpty, node, union, withChild, withFieldsAsMembers, type FieldSet } from './field-set';
import type { FieldType } from './field-type';
import { applyConflictError, conflictsOf } from './apply-conflict';
import { changesBetween, liveOwners, setManagedFields, takeOwnership } from './field-ownership';
import { identityKey, managedTime, type ManagerIdentity, type Owner, type Owners } from './managed-fields';
import { lastAppliedFields, syncLastApplied, upgradingManager } from './last-applied';
import { trackedFields, type WriteScope } from './tracked-fields';
import { fieldSetOf, removeFields, type Json } from './typed-value';

export interface ApplyRequest {
  /** The object as stored; undefined when the apply creates it. */
  live: Obj | undefined;
  /** The applied configuration (the PATCH body). */
  config: Obj;
  identity: ManagerIdentity;
  /** force=true: take fields from their other owners instead of failing with a conflict. */
  force: boolean;
  scope: WriteScope;
  type: FieldType;
  /** Merges the configuration into the live object (lists by merge key, atomic lists replaced). */
  merge: (live: Obj, config: Obj) => Obj;
}

/**
 * Server-side apply, after structured-merge-diff's Updater.Apply: merge the configuration into
 * the live object, remove what this manager applied last time and no longer applies (unless
 * someone else owns it too), refuse to change fields owned by others unless forced, and record
 * the configuration's fields as this manager's Apply entry. Returns the object to store.
 */
export function serverSideApply(req: ApplyRequest): Obj {
  if (req.config.metadata?.managedFields !== undefined) throw errors.badRequest('metadata.managedFields must be nil in an applied configuration');
  const live = req.live ?? {};
  const key = identityKey(req.identity);
  const owners = liveOwners(live);
  const previous = owners.get(key);
  const configFields = fieldSetOf(req.config as unknown as Json, req.type);
  const withApplier = new Map(owners).set(key, { ...req.identity, ...(previous?.time ? { time: previous.time } : {}), fields: trackedFields(configFields, req.scope) });

  let merged = req.live ? req.merge(live, req.config) : structuredClone(req.config);
  if (previous) merged = prune(merged, previous.fields, withApplier, configFields, req.type);

  const changes = changesBetween(live, merged, req.type, req.scope);
  const { owners: after, conflicts } = takeOwnership(withApplier, key, changes);
  if (conflicts.size > 0 && !req.force) refuse(withApplier, conflicts, req);

  const changed = !isEmpty(changes.changed) || !isEmpty(changes.removed);
  const mine = after.get(key) as Owner;
  after.set(key, { ...mine, time: changed || !mine.time ? managedTime() : mine.time });
  if (req.identity.manager === upgradingManager) syncLastApplied(merged, req.config);
  setManagedFields(merged, after);
  return merged;
}

/**
 * Removes the fields this manager applied last time and dropped now, unless another manager,
 * or the new configuration, still holds them. Fields count as held when anything below them is
 * (so a map loses its last key and disappears together, as in Kubernetes), and metadata stays.
 */
function prune(merged: Obj, lastApplied: FieldSet, owners: Owners, configFields: FieldSet, type: FieldType): Obj {
  let held = configFields;
  for (const owner of owners.values()) held = union(held, owner.fields);
  let dropped = difference(withFieldsAsMembers(lastApplied), withFieldsAsMembers(held));
  const metadata = dropped.children.get('f:metadata');
  if (metadata?.member) dropped = withChild(dropped, 'f:metadata', node(false, metadata.children));
  if (isEmpty(dropped)) return merged;
  return removeFields(merged as unknown as Json, dropped, type) as unknown as Obj;
}

/**
 * Fails with the conflicts, except for kubectl's own upgrade from client-side apply: fields that
 * the last-applied annotation still vouches for move to kubectl without a conflict.
 */
function refuse(owners: Owners, conflicts: Map<string, FieldSet>, req: ApplyRequest): void {
  let remaining = conflicts;
  const vouched = req.identity.manager === upgradingManager && req.live ? lastAppliedFields(req.live, req.type) : undefined;
  if (vouched) {
    remaining = new Map();
    for (const [key, set] of conflicts) {
      const rest = difference(set, vouched);
      if (!isEmpty(rest)) remaining.set(key, rest);
    }
  }
  if (remaining.size > 0) throw applyConflictError(conflictsOf(owners, remaining));
}
