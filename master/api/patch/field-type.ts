import type { SchemaLookup } from './strategic-merge';

type Schema = Record<string, unknown>;

/**
 * How server-side apply sees one place in an object, from the kind's OpenAPI schema:
 * - `map`: an object whose fields (struct fields or map keys) are tracked one by one;
 * - `list-map`: a list whose items are identified by their map keys (containers by name);
 * - `list-set`: a list of primitives tracked item by item (finalizers);
 * - `atomic`: a scalar, or a list or object that is owned and replaced as a whole.
 * Without a schema, objects are maps and lists are atomic, as Kubernetes treats unknown data.
 */
export interface FieldType {
  readonly shape: 'map' | 'list-map' | 'list-set' | 'atomic';
  /** The map keys of a `list-map`'s items. */
  readonly keys: readonly string[];
  /** The type of a map's field. */
  field(name: string): FieldType;
  /** The type of a list's items. */
  item(): FieldType;
}

/**
 * Struct types that Kubernetes marks `x-kubernetes-map-type: atomic` but whose marker the
 * bundled schemas lack: a label selector is owned and replaced as a whole.
 */
const atomicStructs = new Set(['V1LabelSelector', 'V1NodeSelector', 'V1NodeSelectorTerm', 'V1LocalObjectReference', 'V1ObjectReference', 'V1ConfigMapKeySelector', 'V1SecretKeySelector', 'V1ObjectFieldSelector', 'V1ResourceFieldSelector', 'V1TopologySelectorTerm']);

const caches = new WeakMap<SchemaLookup, Map<string, FieldType>>();

/** The type of a kind's objects (schemaName: e.g. "V1Deployment"); cached per lookup. */
export function rootType(schemaName: string, lookup: SchemaLookup): FieldType {
  let cache = caches.get(lookup);
  if (!cache) caches.set(lookup, (cache = new Map()));
  let type = cache.get(schemaName);
  if (!type) cache.set(schemaName, (type = typeOf({ $ref: `#/components/schemas/${schemaName}` }, lookup)));
  return type;
}

export const untyped: FieldType = makeType(undefined, undefined);

function makeType(schema: Schema | undefined, lookup: SchemaLookup | undefined): FieldType {
  const name = schema?.$ref === undefined ? undefined : refName(schema.$ref);
  const resolved = lookup ? resolve(schema, lookup) : schema;
  const shape = shapeOf(resolved, name);
  const fields = new Map<string, FieldType>();
  let item: FieldType | undefined;
  return {
    shape,
    keys: listKeys(resolved),
    field(fieldName: string): FieldType {
      let t = fields.get(fieldName);
      if (!t) fields.set(fieldName, (t = lookup ? typeOf(fieldSchema(resolved, fieldName), lookup) : untyped));
      return t;
    },
    item(): FieldType {
      return (item ??= lookup ? typeOf(resolved?.items as Schema | undefined, lookup) : untyped);
    },
  };
}

function typeOf(schema: Schema | undefined, lookup: SchemaLookup): FieldType {
  return schema === undefined ? untyped : makeType(schema, lookup);
}

function shapeOf(schema: Schema | undefined, name: string | undefined): FieldType['shape'] {
  if (schema === undefined) return 'map'; // unknown: objects are granular (lists are caught below by value)
  if (name !== undefined && atomicStructs.has(name)) return 'atomic';
  if (schema['x-kubernetes-map-type'] === 'atomic' || schema['x-kubernetes-int-or-string'] === true) return 'atomic';
  if (schema.type === 'array') return listShape(schema);
  if (schema.type === 'object' || schema.properties !== undefined || schema.additionalProperties !== undefined) return 'map';
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return 'map';
  return 'atomic';
}

/** Kubernetes reads patchStrategy=merge as listType=map (with a merge key) or set (without). */
function listShape(schema: Schema): FieldType['shape'] {
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'map') return 'list-map';
  if (listType === 'set') return 'list-set';
  if (listType === 'atomic') return 'atomic';
  if (!String(schema['x-kubernetes-patch-strategy'] ?? '').split(',').includes('merge')) return 'atomic';
  return schema['x-kubernetes-patch-merge-key'] ? 'list-map' : 'list-set';
}

function listKeys(schema: Schema | undefined): string[] {
  const keys = schema?.['x-kubernetes-list-map-keys'];
  if (Array.isArray(keys) && keys.length > 0) return keys.map(String);
  const mergeKey = schema?.['x-kubernetes-patch-merge-key'];
  return typeof mergeKey === 'string' ? [mergeKey] : [];
}

function fieldSchema(schema: Schema | undefined, name: string): Schema | undefined {
  const props = schema?.properties as Record<string, Schema> | undefined;
  if (props) return props[name];
  const additional = schema?.additionalProperties;
  return typeof additional === 'object' && additional !== null ? (additional as Schema) : undefined;
}

/** Follows $ref, keeping the x-kubernetes-* markers written next to the reference. */
function resolve(schema: Schema | undefined, lookup: SchemaLookup): Schema | undefined {
  let s = schema;
  for (let depth = 0; s && typeof s.$ref === 'string' && depth < 10; depth++) {
    const markers = Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('x-')));
    const target = lookup(refName(s.$ref));
    s = target ? { ...target, ...markers } : undefined;
  }
  return s;
}

function refName(ref: unknown): string {
  return String(ref).split('/').pop() ?? '';
}
