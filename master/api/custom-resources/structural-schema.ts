import type { JsonSchema } from '../resources';
import type { StatusCause } from '../status';

/**
 * The three things the apiserver does with a custom resource's structural schema, in its order:
 * prune what the schema does not know, apply defaults, validate. Paths and messages follow
 * Kubernetes' (`spec.replicas in body must be of type integer: "string"`), so kubectl shows what
 * users see elsewhere.
 */

type Json = unknown;
type Obj = Record<string, Json>;

const isObject = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const props = (s: JsonSchema): Record<string, JsonSchema> | undefined => s.properties as Record<string, JsonSchema> | undefined;
const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** The keys every object keeps at its root (and in an embedded resource). */
const typeMetaKeys = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Removes fields the schema does not specify (outside x-kubernetes-preserve-unknown-fields) and
 * nulls where the schema does not allow them; returns the paths of the unknown fields removed.
 */
export function prune(schema: JsonSchema | undefined, value: Json, path = '', root = true): string[] {
  if (!schema) return [];
  if (Array.isArray(value)) {
    const items = schema.items as JsonSchema | undefined;
    return value.flatMap((v, i) => prune(items, v, `${path}[${i}]`, false));
  }
  if (!isObject(value)) return [];
  const known = props(schema);
  const additional = schema.additionalProperties;
  const keepUnknown = schema['x-kubernetes-preserve-unknown-fields'] === true || additional === true;
  const keepTypeMeta = root || schema['x-kubernetes-embedded-resource'] === true;
  const removed: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (keepTypeMeta && typeMetaKeys.has(key)) continue;
    const sub = known?.[key] ?? (isObject(additional) ? (additional as JsonSchema) : undefined);
    if (!sub) {
      if (!keepUnknown) {
        delete value[key];
        removed.push(join(path, key));
      }
      continue;
    }
    if (v === null && sub.nullable !== true) {
      delete value[key];
      continue;
    }
    removed.push(...prune(sub, v, join(path, key), false));
  }
  return removed;
}

/** Sets each absent field that has a default, at every level of the object. */
export function applySchemaDefaults(schema: JsonSchema | undefined, value: Json): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const v of value) applySchemaDefaults(schema.items as JsonSchema | undefined, v);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, sub] of Object.entries(props(schema) ?? {})) {
    if (value[key] === undefined && sub.default !== undefined) value[key] = structuredClone(sub.default);
    if (value[key] !== undefined) applySchemaDefaults(sub, value[key]);
  }
  const additional = schema.additionalProperties;
  if (isObject(additional) && !props(schema)) for (const v of Object.values(value)) applySchemaDefaults(additional as JsonSchema, v);
}

/** Every violation of the schema, one cause per field. */
export function validateAgainst(schema: JsonSchema | undefined, value: Json, path = ''): StatusCause[] {
  if (!schema) return [];
  const causes: StatusCause[] = [];
  if (value === null) {
    if (schema.nullable !== true && schema.type !== undefined) causes.push(typeCause(schema, path, value));
    return causes;
  }
  if (!hasType(schema, value)) return [typeCause(schema, path, value)];
  checkValue(schema, value, path, causes);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = schema[key] as JsonSchema[] | undefined;
    if (!branches) continue;
    const results = branches.map((b) => validateAgainst(b, value, path));
    const passing = results.filter((r) => r.length === 0).length;
    if (key === 'allOf') causes.push(...results.flat());
    if (key === 'anyOf' && passing === 0) causes.push(...results.flat());
    if (key === 'oneOf' && passing !== 1) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${show(value)}: ${path || '<root>'} in body must validate one and only one schema (oneOf)` });
  }
  if (schema.not && validateAgainst(schema.not as JsonSchema, value, path).length === 0) {
    causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${show(value)}: ${path || '<root>'} in body should not match the schema in "not"` });
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => causes.push(...validateAgainst(schema.items as JsonSchema | undefined, v, `${path}[${i}]`)));
    checkList(schema, value, path, causes);
  } else if (isObject(value)) {
    checkObject(schema, value, path, causes);
  }
  return causes;
}

function hasType(schema: JsonSchema, value: Json): boolean {
  if (schema['x-kubernetes-int-or-string'] === true) return typeof value === 'string' || Number.isInteger(value);
  switch (schema.type) {
    case undefined:
    case '':
      return true;
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

function typeName(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeCause(schema: JsonSchema, path: string, value: Json): StatusCause {
  const wanted = schema['x-kubernetes-int-or-string'] === true ? 'integer or string' : String(schema.type);
  const actual = typeName(value);
  return { reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "${actual}": ${path || '<root>'} in body must be of type ${wanted}: "${actual}"` };
}

function show(value: Json): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function checkValue(schema: JsonSchema, value: Json, path: string, causes: StatusCause[]): void {
  const where = path || '<root>';
  const enumeration = schema.enum as Json[] | undefined;
  if (enumeration && !enumeration.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    causes.push({ reason: 'FieldValueNotSupported', field: path, message: `Unsupported value: ${show(value)}: supported values: ${enumeration.map(show).join(', ')}` });
  }
  if (typeof value === 'number') {
    const min = schema.minimum as number | undefined;
    const max = schema.maximum as number | undefined;
    if (min !== undefined && (schema.exclusiveMinimum ? value <= min : value < min)) {
      causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: ${where} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${min}` });
    }
    if (max !== undefined && (schema.exclusiveMaximum ? value >= max : value > max)) {
      causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: ${where} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${max}` });
    }
    const multiple = schema.multipleOf as number | undefined;
    if (multiple && Math.abs(value / multiple - Math.round(value / multiple)) > 1e-9) {
      causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: ${where} in body should be a multiple of ${multiple}` });
    }
  }
  if (typeof value === 'string') checkString(schema, value, path, causes);
}

function checkString(schema: JsonSchema, value: string, path: string, causes: StatusCause[]): void {
  const where = path || '<root>';
  const length = [...value].length;
  if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
    causes.push({ reason: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${schema.maxLength} bytes` });
  }
  if (typeof schema.minLength === 'number' && length < schema.minLength) {
    causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${show(value)}: ${where} in body should be at least ${schema.minLength} chars long` });
  }
  if (typeof schema.pattern === 'string' && !patternOf(schema.pattern).test(value)) {
    causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${show(value)}: ${where} in body should match '${schema.pattern}'` });
  }
  const format = schema.format as string | undefined;
  if (format && formats[format] && !formats[format](value)) {
    causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${show(value)}: ${where} in body must be of type ${format}: ${show(value)}` });
  }
}

const patterns = new Map<string, RegExp>();
function patternOf(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    // 'u' for code points; the CRD's validation already proved the pattern compiles.
    re = new RegExp(source, 'u');
    patterns.set(source, re);
  }
  return re;
}

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** The string formats Kubernetes checks in custom resources (others are accepted as annotations). */
const formats: Record<string, (v: string) => boolean> = {
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  ipv4: (v) => ipv4.test(v),
  ipv6: (v) => /^[0-9a-fA-F:]+(%.+)?$/.test(v) && v.includes(':'),
  cidr: (v) => /^[0-9a-fA-F.:]+\/\d{1,3}$/.test(v),
  hostname: (v) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v) && v.length <= 253,
  byte: (v) => /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0,
  email: (v) => /^[^@\s]+@[^@\s]+$/.test(v),
  uri: (v) => URL.canParse(v),
  int32: (v) => /^-?\d+$/.test(v),
  int64: (v) => /^-?\d+$/.test(v),
};

function checkList(schema: JsonSchema, value: Json[], path: string, causes: StatusCause[]): void {
  const where = path || '<root>';
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
    causes.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
  }
  if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
    causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value.length}: ${where} in body should have at least ${schema.minItems} items` });
  }
  const listType = schema['x-kubernetes-list-type'];
  const keys = schema['x-kubernetes-list-map-keys'] as string[] | undefined;
  const identity = (v: Json): string => (listType === 'map' && keys && isObject(v) ? JSON.stringify(keys.map((k) => v[k])) : JSON.stringify(v));
  if (schema.uniqueItems === true || listType === 'set' || listType === 'map') {
    const seen = new Set<string>();
    value.forEach((v, i) => {
      const id = identity(v);
      if (seen.has(id)) causes.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${id}` });
      seen.add(id);
    });
  }
}

function checkObject(schema: JsonSchema, value: Obj, path: string, causes: StatusCause[]): void {
  for (const key of (schema.required as string[] | undefined) ?? []) {
    if (value[key] === undefined) causes.push({ reason: 'FieldValueRequired', field: join(path, key), message: 'Required value' });
  }
  const count = Object.keys(value).length;
  if (typeof schema.maxProperties === 'number' && count > schema.maxProperties) {
    causes.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${count}: must have at most ${schema.maxProperties} items` });
  }
  if (typeof schema.minProperties === 'number' && count < schema.minProperties) {
    causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${count}: ${path || '<root>'} in body should have at least ${schema.minProperties} properties` });
  }
  const known = props(schema);
  const additional = schema.additionalProperties;
  for (const [key, v] of Object.entries(value)) {
    if (path === '' && key === 'metadata') continue; // ObjectMeta is the API's, validated as for every kind
    const sub = known?.[key] ?? (isObject(additional) ? (additional as JsonSchema) : undefined);
    if (sub) causes.push(...validateAgainst(sub, v, join(path, key)));
  }
}
