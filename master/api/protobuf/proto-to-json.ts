import type { Field, Type } from 'protobufjs';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/**
 * Turns a decoded message (protobufjs `toObject` form: longs as numbers, bytes as base64) into the
 * object the Kubernetes JSON API would carry: zero values of non-pointer fields left out, embedded
 * structs flattened, Time/IntOrString/Quantity in their JSON spelling. See k8s-subset.ts for the
 * conventions of the schema this relies on.
 */
export function protoToJson(type: Type, value: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(value, field.name)) continue;
    const converted = convertField(field, value[field.name]);
    if (converted === undefined) continue;
    if (isInline(field) && isObject(converted)) Object.assign(out, converted);
    else out[field.name] = converted;
  }
  return out;
}

function convertField(field: Field, raw: unknown): Json | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (field.map) {
    const entries = Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, convertValue(field, v)] as const);
    return entries.length === 0 ? undefined : Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as JsonObject;
  }
  if (field.repeated) {
    const items = (raw as unknown[]).map((v) => convertValue(field, v) ?? emptyOf(field));
    return items.length === 0 ? undefined : items;
  }
  const converted = convertValue(field, raw);
  if (hasPresence(field)) return converted ?? emptyOf(field);
  return isZero(converted) ? undefined : converted;
}

/** One value of the field's type (a map value or list item counts as one). */
function convertValue(field: Field, raw: unknown): Json | undefined {
  const message = field.resolvedType && 'fieldsArray' in field.resolvedType ? (field.resolvedType as Type) : null;
  if (!message) return raw as Json;
  const obj = raw as Record<string, unknown>;
  switch (message.name) {
    case 'Time':
      return timeToJson(obj);
    case 'IntOrString':
      return Number(obj.type ?? 0) === 1 ? String(obj.strVal ?? '') : Number(obj.intVal ?? 0);
    case 'Quantity':
      return String(obj.string ?? '');
    default:
      return protoToJson(message, obj);
  }
}

/** metav1.Time: seconds since the epoch; the zero time is what Go sends for "unset" (JSON null/absent). */
function timeToJson(obj: Record<string, unknown>): string | undefined {
  const seconds = Number(obj.seconds ?? 0);
  if (seconds === 0) return undefined;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A pointer field that is present but decoded to nothing still means something: `emptyDir: {}`. */
function emptyOf(field: Field): Json {
  const message = field.resolvedType && 'fieldsArray' in field.resolvedType;
  if (!message) return null;
  return ['Time', 'Quantity', 'IntOrString'].includes(field.resolvedType?.name ?? '') ? null : {};
}

function hasPresence(field: Field): boolean {
  return Boolean(field.options?.proto3_optional);
}

function isInline(field: Field): boolean {
  return Boolean(field.options?.['(inline)']);
}

function isZero(v: Json | undefined): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
