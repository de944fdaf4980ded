import { errors } from '../status';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };
type Schema = Record<string, unknown>;
export type SchemaLookup = (name: string) => Schema | undefined;

/**
 * Applies a strategic merge patch (what `kubectl apply`, `edit` and `label` send) to an object,
 * using the patch strategy and merge key of each list from the kind's OpenAPI schema:
 * lists with a merge key merge item by item, other lists are replaced; directives $patch,
 * $retainKeys, $setElementOrder/ and $deleteFromPrimitiveList/ are honoured.
 */
export function strategicMerge(original: JsonObject, patch: JsonObject, schemaName: string, lookup: SchemaLookup): JsonObject {
  return mergeMap(original, patch, resolve({ $ref: `#/${schemaName}` }, lookup), lookup);
}

function resolve(schema: Schema | undefined, lookup: SchemaLookup): Schema | undefined {
  let s = schema;
  for (let i = 0; s && typeof s.$ref === 'string' && i < 10; i++) s = lookup(String(s.$ref).split('/').pop() ?? '');
  return s;
}

function propSchema(schema: Schema | undefined, key: string, lookup: SchemaLookup): Schema | undefined {
  if (!schema) return undefined;
  const props = schema.properties as Record<string, Schema> | undefined;
  if (props) return resolveKeepExt(props[key], lookup);
  return resolveKeepExt(schema.additionalProperties as Schema | undefined, lookup);
}

/** Resolves $ref but keeps the x-kubernetes-* extensions set on the referencing property. */
function resolveKeepExt(schema: Schema | undefined, lookup: SchemaLookup): Schema | undefined {
  if (!schema) return undefined;
  if (typeof schema.$ref !== 'string') return schema;
  return { ...resolve(schema, lookup), ...Object.fromEntries(Object.entries(schema).filter(([k]) => k.startsWith('x-'))) };
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: Schema | undefined, lookup: SchemaLookup): JsonObject {
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  if (patch.$patch === 'delete') return {};
  const result: JsonObject = { ...original };
  const retain = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const remove = new Set((Array.isArray(value) ? value : []).map((v) => JSON.stringify(v)));
      const cur = result[field];
      if (Array.isArray(cur)) result[field] = cur.filter((v) => !remove.has(JSON.stringify(v)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const sub = propSchema(schema, key, lookup);
    const cur = result[key];
    if (isObject(value)) {
      result[key] = isObject(cur) ? mergeMap(cur, value, sub, lookup) : mergeMap({}, value, sub, lookup);
    } else if (Array.isArray(value)) {
      result[key] = mergeList(Array.isArray(cur) ? cur : [], value, sub, lookup);
    } else {
      result[key] = value;
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/')) {
      const field = key.slice('$setElementOrder/'.length);
      const cur = result[field];
      if (Array.isArray(cur) && Array.isArray(value)) result[field] = reorder(cur, value, propSchema(schema, field, lookup));
    }
  }
  if (retain) for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  return result;
}

function mergeList(original: Json[], patch: Json[], schema: Schema | undefined, lookup: SchemaLookup): Json[] {
  const strategy = String(schema?.['x-kubernetes-patch-strategy'] ?? '');
  const mergeKey = schema?.['x-kubernetes-patch-merge-key'] as string | undefined;
  if (!strategy.split(',').includes('merge')) return patch.map(stripDirectives);
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p.$patch === 'replace')).map(stripDirectives);
  }
  if (!mergeKey) {
    // A merged list of primitives (finalizers): union, keeping the original order first.
    const seen = new Set(original.map((v) => JSON.stringify(v)));
    return [...original, ...patch.filter((v) => !seen.has(JSON.stringify(v)))];
  }
  const itemSchema = resolveKeepExt(schema?.items as Schema | undefined, lookup);
  const result = [...original];
  for (const item of patch) {
    if (!isObject(item)) throw errors.badRequest(`strategic merge patch: an item of a list merged by "${mergeKey}" is not an object`);
    const key = JSON.stringify(item[mergeKey]);
    const index = result.findIndex((o) => isObject(o) && JSON.stringify(o[mergeKey]) === key);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) result[index] = mergeMap(result[index] as JsonObject, item, itemSchema, lookup);
    else result.push(mergeMap({}, item, itemSchema, lookup));
  }
  return result;
}

function reorder(list: Json[], order: Json[], schema: Schema | undefined): Json[] {
  const mergeKey = schema?.['x-kubernetes-patch-merge-key'] as string | undefined;
  const keyOf = (v: Json): string => JSON.stringify(mergeKey && isObject(v) ? v[mergeKey] : v);
  const wanted = order.map((o) => JSON.stringify(mergeKey && isObject(o) ? o[mergeKey] : o));
  const rank = (v: Json): number => {
    const i = wanted.indexOf(keyOf(v));
    return i < 0 ? wanted.length : i;
  };
  return [...list].sort((a, b) => rank(a) - rank(b));
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(val);
  return out;
}
