import { emptySet, isEmpty, node, type FieldSet } from './field-set';
import type { FieldType } from './field-type';

/**
 * Server-side apply's view of a JSON value through its FieldType: the set of fields it sets,
 * what changed between two versions, and the value with some fields taken out. These are
 * structured-merge-diff's ToFieldSet, Compare and RemoveItems, over plain JSON.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a value's children are tracked one by one (else it is owned as a whole). */
function isGranular(value: Json | undefined, type: FieldType): boolean {
  if (isObject(value)) return type.shape === 'map';
  if (!Array.isArray(value)) return false;
  if (type.shape === 'list-set') return value.every((v) => typeof v !== 'object' || v === null);
  return type.shape === 'list-map' && type.keys.length > 0 && value.every(isObject);
}

type Visit = (element: string, value: Json, type: FieldType) => void;

/**
 * Calls `visit` for each child tracked one by one, with its path element; nothing for atomic
 * values. A callback rather than a collection: creates walk every object, so this stays lean.
 */
function forEachElement(value: Json | undefined, type: FieldType, visit: Visit): void {
  if (!isGranular(value, type)) return;
  if (isObject(value)) {
    for (const k in value) visit(`f:${k}`, value[k], type.field(k));
    return;
  }
  const item = type.item();
  if (type.shape === 'list-set') for (const v of value as Json[]) visit(`v:${JSON.stringify(v)}`, v, item);
  else for (const v of value as JsonObject[]) visit(keyElement(v, type.keys), v, item);
}

/** The children of a granular value keyed by path element; undefined for atomic values. */
function elementsOf(value: Json | undefined, type: FieldType): Map<string, { value: Json; type: FieldType }> | undefined {
  if (!isGranular(value, type)) return undefined;
  const out = new Map<string, { value: Json; type: FieldType }>();
  forEachElement(value, type, (element, v, t) => out.set(element, { value: v, type: t }));
  return out;
}

/** `k:{"containerPort":80}`: the item's map keys that are set, sorted by name as Kubernetes writes them. */
export function keyElement(item: JsonObject, keys: readonly string[]): string {
  const fields: JsonObject = {};
  for (const k of [...keys].sort()) if (item[k] !== undefined) fields[k] = item[k];
  return `k:${JSON.stringify(fields)}`;
}

/**
 * The fields an applied configuration sets: its leaves and list items, not the maps on the
 * way to them (an empty map is a leaf of its own).
 */
export function fieldSetOf(value: Json, type: FieldType): FieldSet {
  const children = new Map<string, FieldSet>();
  forEachElement(value, type, (element, v, t) => {
    const inner = fieldSetOf(v, t);
    children.set(element, node(element[0] === 'k' || inner.children.size === 0, inner.children));
  });
  return node(false, children);
}

/** Every path of a value, containers included: what a value that appears or disappears adds or removes. */
export function allPathsOf(value: Json, type: FieldType): FieldSet {
  const children = new Map<string, FieldSet>();
  forEachElement(value, type, (element, v, t) => children.set(element, node(true, allPathsOf(v, t).children)));
  return children.size === 0 ? emptySet : node(false, children);
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** What changed from `before` to `after`: leaves whose value changed are modified. */
export function compare(before: Json, after: Json, type: FieldType): Comparison {
  const a = elementsOf(before, type);
  const b = elementsOf(after, type);
  if (!a || !b) return { added: emptySet, modified: emptySet, removed: emptySet };
  const added = new Map<string, FieldSet>();
  const modified = new Map<string, FieldSet>();
  const removed = new Map<string, FieldSet>();
  for (const [element, next] of b) {
    const prev = a.get(element);
    if (prev === undefined) {
      added.set(element, node(true, allPathsOf(next.value, next.type).children));
      continue;
    }
    if (!isGranular(prev.value, prev.type) || !isGranular(next.value, next.type)) {
      if (!equal(prev.value, next.value)) modified.set(element, node(true));
      continue;
    }
    // Most of an object is unchanged by a write: a deep equality check allocates nothing, where
    // comparing element by element builds maps and path elements for every level below.
    if (equal(prev.value, next.value)) continue;
    const inner = compare(prev.value, next.value, next.type);
    if (!isEmpty(inner.added)) added.set(element, inner.added);
    if (!isEmpty(inner.modified)) modified.set(element, inner.modified);
    if (!isEmpty(inner.removed)) removed.set(element, inner.removed);
  }
  for (const [element, prev] of a) {
    if (!b.has(element)) removed.set(element, node(true, allPathsOf(prev.value, prev.type).children));
  }
  return { added: node(false, added), modified: node(false, modified), removed: node(false, removed) };
}

/** The value without the member paths of `set` (a removed path takes everything below it along). */
export function removeFields(value: Json, set: FieldSet, type: FieldType): Json {
  if (isEmpty(set)) return value;
  if (isObject(value)) {
    if (type.shape !== 'map') return value;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const sub = set.children.get(`f:${k}`);
      if (!sub) out[k] = v;
      else if (!sub.member) out[k] = removeFields(v, sub, type.field(k));
    }
    return out;
  }
  if (!Array.isArray(value) || !isGranular(value, type)) return value;
  const out: Json[] = [];
  for (const item of value) {
    // Item by item rather than through elementsOf, so that duplicates are kept as they are.
    const element = type.shape === 'list-set' ? `v:${JSON.stringify(item)}` : keyElement(item as JsonObject, type.keys);
    const sub = set.children.get(element);
    if (!sub) out.push(item);
    else if (!sub.member) out.push(removeFields(item, sub, type.item()));
  }
  return out;
}

function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as Json[];
    return a.length === bb.length && a.every((v, i) => equal(v, bb[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => k in bo && equal(ao[k], bo[k]));
}
