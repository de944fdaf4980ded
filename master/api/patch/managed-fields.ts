import { fromFieldsV1, isEmpty, toFieldsV1, type FieldSet, type FieldsV1 } from './field-set';

/**
 * metadata.managedFields: who owns which fields of an object. One entry per manager identity
 * (manager, operation, apiVersion, subresource), each with its FieldsV1 set and the time of
 * its last change.
 */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldsV1;
  subresource?: string;
}

export type Operation = 'Apply' | 'Update';

export interface ManagerIdentity {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
}

export interface Owner extends ManagerIdentity {
  time?: string;
  fields: FieldSet;
}

/** Owners by identity key (see identityKey). Treated as immutable: operations return new maps. */
export type Owners = ReadonlyMap<string, Owner>;

/**
 * The key that merges entries, shaped like Kubernetes' manager identifier: an applier keeps one
 * entry whatever apiVersion it applies with, an updater has one per apiVersion.
 */
export function identityKey(id: ManagerIdentity): string {
  return JSON.stringify({
    manager: id.manager,
    operation: id.operation,
    ...(id.operation === 'Update' ? { apiVersion: id.apiVersion } : {}),
    ...(id.subresource ? { subresource: id.subresource } : {}),
  });
}

/** Decodes managedFields; throws with the offending entry on anything malformed or duplicated. */
export function decodeManagedFields(entries: unknown): Map<string, Owner> {
  const owners = new Map<string, Owner>();
  if (entries === undefined || entries === null) return owners;
  if (!Array.isArray(entries)) throw new Error('metadata.managedFields must be a list');
  entries.forEach((raw: unknown, i) => {
    const e = (raw ?? {}) as ManagedFieldsEntry;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error(`managedFields[${i}]: operation must be Apply or Update, not ${JSON.stringify(e.operation)}`);
    if (e.fieldsType !== undefined && e.fieldsType !== 'FieldsV1') throw new Error(`managedFields[${i}]: fieldsType must be FieldsV1`);
    const owner: Owner = {
      manager: String(e.manager ?? ''),
      operation: e.operation,
      apiVersion: String(e.apiVersion ?? ''),
      ...(e.subresource ? { subresource: String(e.subresource) } : {}),
      ...(e.time ? { time: String(e.time) } : {}),
      fields: fromFieldsV1(e.fieldsV1 ?? {}, `[${i}]`),
    };
    const key = identityKey(owner);
    if (owners.has(key)) throw new Error(`managedFields[${i}]: a second entry for ${key}`);
    owners.set(key, owner);
  });
  return owners;
}

/** Kubernetes' reset marker: a list holding one empty entry clears managedFields. */
export function isResetMarker(entries: unknown): boolean {
  return Array.isArray(entries) && entries.length === 1 && typeof entries[0] === 'object' && entries[0] !== null && Object.keys(entries[0]).length === 0;
}

/** Encodes the owners that own something, appliers first, then by time and name, as Kubernetes orders them. */
export function encodeManagedFields(owners: Owners): ManagedFieldsEntry[] {
  const list = [...owners.values()].filter((o) => !isEmpty(o.fields));
  list.sort(compareOwners);
  return list.map((o) => ({
    manager: o.manager,
    operation: o.operation,
    apiVersion: o.apiVersion,
    ...(o.time ? { time: o.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(o.fields),
    ...(o.subresource ? { subresource: o.subresource } : {}),
  }));
}

function compareOwners(p: Owner, q: Owner): number {
  return cmp(p.operation, q.operation) || cmp(p.time ?? '', q.time ?? '') || cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource ?? '', q.subresource ?? '');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How a conflict names an owner: `"kubectl-client-side-apply" using v1`, or just `"a"` for an applier. */
export function describeOwner(o: ManagerIdentity): string {
  let s = JSON.stringify(o.manager);
  if (o.subresource) s += ` with subresource ${JSON.stringify(o.subresource)}`;
  return o.operation === 'Update' ? `${s} using ${o.apiVersion}` : s;
}

/** A timestamp in managedFields' form (seconds, UTC). */
export function managedTime(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
