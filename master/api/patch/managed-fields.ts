type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;
export type FieldSet = { [k: string]: FieldSet };
import type { SchemaLookup } from './strategic-merge';

/**
 * The FieldsV1 set of an applied configuration ({"f:spec":{"f:replicas":{}}}), in the encoding
 * server-side apply clients read: `f:` for fields, `k:` for list items by merge key, `v:` for
 * items of sets of primitives.
 */
export function fieldsOf(value: Json, schemaName: string, lookup: SchemaLookup): FieldSet {
  return walk(value, lookup(schemaName), lookup);
}

function resolve(schema: Schema | undefined, lookup: SchemaLookup): Schema | undefined {
  let s = schema;
  for (let i = 0; s && typeof s.$ref === 'string' && i < 10; i++) s = { ...lookup(String(s.$ref).split('/').pop() ?? ''), ...Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('x-'))) };
  return s;
}

function walk(value: Json, schema: Schema | undefined, lookup: SchemaLookup): FieldSet {
  const out: FieldSet = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out;
  const props = schema?.properties as Record<string, Schema> | undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'apiVersion' || k === 'kind' || k.startsWith('$')) continue;
    if (schema === undefined && k === 'name') continue;
    const sub = resolve(props ? props[k] : (schema?.additionalProperties as Schema | undefined), lookup);
    out[`f:${k}`] = Array.isArray(v) ? listFields(v, sub, lookup) : walk(v, sub, lookup);
  }
  return out;
}

function listFields(items: Json[], schema: Schema | undefined, lookup: SchemaLookup): FieldSet {
  const key = schema?.['x-kubernetes-patch-merge-key'] as string | undefined;
  const strategy = String(schema?.['x-kubernetes-patch-strategy'] ?? '');
  const out: FieldSet = {};
  if (!strategy.includes('merge')) return out; // atomic: owning the field owns the whole list
  const itemSchema = resolve(schema?.items as Schema | undefined, lookup);
  for (const item of items) {
    if (key && item && typeof item === 'object' && !Array.isArray(item)) {
      out[`k:${JSON.stringify({ [key]: item[key] })}`] = { '.': {}, ...walk(item, itemSchema, lookup) };
    } else if (!key) {
      out[`v:${JSON.stringify(item)}`] = {};
    }
  }
  return out;
}
