import type { JsonSchema } from '../resources';
import type { StatusCause } from '../status';
import { cleanupFinalizer, type Crd, type CrdVersion } from './crd-types';
import { validateAgainst } from './structural-schema';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const kindName = /^[A-Za-z][A-Za-z0-9]*$/;
const columnTypes = ['integer', 'number', 'string', 'boolean', 'date'];

/** Fills what Kubernetes defaults in a CRD: singular and list kind, `None` conversion, the cleanup finalizer on create. */
export function defaultCrd(crd: Crd, creating: boolean): void {
  const names = crd.spec?.names;
  if (names?.kind && !names.singular) names.singular = names.kind.toLowerCase();
  if (names?.kind && !names.listKind) names.listKind = `${names.kind}List`;
  if (crd.spec && !crd.spec.conversion) crd.spec.conversion = { strategy: 'None' };
  if (creating && crd.metadata) {
    const finalizers = crd.metadata.finalizers ?? [];
    if (!finalizers.includes(cleanupFinalizer)) crd.metadata.finalizers = [...finalizers, cleanupFinalizer];
  }
}

/** Everything wrong with a CRD, one cause per field; `old` is the stored CRD on an update. */
export function validateCrd(crd: Crd, old?: Crd): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = crd.spec ?? {};
  const group = spec.group ?? '';
  const names = spec.names ?? {};
  const bad = (field: string, message: string, reason = 'FieldValueInvalid'): void => {
    causes.push({ reason, field, message });
  };
  if (!group) bad('spec.group', 'Required value', 'FieldValueRequired');
  else if (!dns1123Subdomain.test(group) || !group.includes('.')) bad('spec.group', `Invalid value: "${group}": should be a domain with at least one dot`);
  if (!names.plural) bad('spec.names.plural', 'Required value', 'FieldValueRequired');
  else if (!dns1123Label.test(names.plural)) bad('spec.names.plural', `Invalid value: "${names.plural}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`);
  if (!names.kind) bad('spec.names.kind', 'Required value', 'FieldValueRequired');
  else if (!kindName.test(names.kind)) bad('spec.names.kind', `Invalid value: "${names.kind}": may have mixed case, but should otherwise match: ^[a-z][-a-z0-9]*$`);
  if (names.singular && !dns1123Label.test(names.singular)) bad('spec.names.singular', `Invalid value: "${names.singular}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`);
  (names.shortNames ?? []).forEach((s, i) => {
    if (!dns1123Label.test(s)) bad(`spec.names.shortNames[${i}]`, `Invalid value: "${s}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`);
  });
  const expectedName = `${names.plural}.${group}`;
  if (names.plural && group && crd.metadata?.name !== expectedName) bad('metadata.name', `Invalid value: "${crd.metadata?.name ?? ''}": must be spec.names.plural+"."+spec.group`);
  if (!['Namespaced', 'Cluster'].includes(spec.scope ?? '')) bad('spec.scope', `Unsupported value: "${spec.scope ?? ''}": supported values: "Cluster", "Namespaced"`, 'FieldValueNotSupported');
  if (old?.spec?.scope && spec.scope !== old.spec.scope) bad('spec.scope', `Invalid value: "${spec.scope ?? ''}": field is immutable`);
  if (spec.preserveUnknownFields === true) bad('spec.preserveUnknownFields', 'Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead');
  const strategy = spec.conversion?.strategy ?? 'None';
  if (strategy === 'Webhook') {
    bad('spec.conversion.strategy', 'Unsupported value: "Webhook": lotse converts custom resources between versions only with the "None" strategy (the versions share one schema shape and only apiVersion changes); remove spec.conversion or set strategy: None', 'FieldValueNotSupported');
  } else if (strategy !== 'None') {
    bad('spec.conversion.strategy', `Unsupported value: "${strategy}": supported values: "None", "Webhook"`, 'FieldValueNotSupported');
  }
  validateVersions(spec.versions ?? [], causes);
  return causes;
}

function validateVersions(versions: CrdVersion[], causes: StatusCause[]): void {
  if (versions.length === 0) causes.push({ reason: 'FieldValueRequired', field: 'spec.versions', message: 'Required value: must have exactly one version marked as storage version' });
  const storage = versions.filter((v) => v.storage).length;
  if (versions.length > 0 && storage !== 1) causes.push({ reason: 'FieldValueInvalid', field: 'spec.versions', message: `Invalid value: ${storage}: must have exactly one version marked as storage version` });
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    if (!v.name) causes.push({ reason: 'FieldValueRequired', field: `${at}.name`, message: 'Required value' });
    else if (!dns1035Label.test(v.name)) causes.push({ reason: 'FieldValueInvalid', field: `${at}.name`, message: `Invalid value: "${v.name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character` });
    else if (seen.has(v.name)) causes.push({ reason: 'FieldValueDuplicate', field: `${at}.name`, message: `Duplicate value: "${v.name}"` });
    if (v.name) seen.add(v.name);
    if (typeof v.served !== 'boolean') causes.push({ reason: 'FieldValueRequired', field: `${at}.served`, message: 'Required value' });
    if (typeof v.storage !== 'boolean') causes.push({ reason: 'FieldValueRequired', field: `${at}.storage`, message: 'Required value' });
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) causes.push({ reason: 'FieldValueRequired', field: `${at}.schema.openAPIV3Schema`, message: 'Required value: schemas are required' });
    else validateStructural(schema, `${at}.schema.openAPIV3Schema`, true, causes);
    validateColumns(v, at, causes);
    validateScale(v, at, causes);
  });
}

/**
 * The rules that make a schema structural: every field has a type (unless it is int-or-string or
 * keeps unknown fields), the root is an object, patterns compile, defaults obey their own schema.
 */
function validateStructural(schema: JsonSchema, at: string, root: boolean, causes: StatusCause[]): void {
  const type = schema.type as string | undefined;
  const typeless = schema['x-kubernetes-int-or-string'] === true || schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (root && !type) causes.push({ reason: 'FieldValueRequired', field: `${at}.type`, message: 'Required value: must not be empty at the root' });
  else if (root && type !== 'object') causes.push({ reason: 'FieldValueInvalid', field: `${at}.type`, message: `Invalid value: "${type}": must be object at the root` });
  else if (!root && !type && !typeless) causes.push({ reason: 'FieldValueRequired', field: `${at}.type`, message: 'Required value: must not be empty for specified object fields' });
  if (typeof schema.pattern === 'string') {
    try {
      new RegExp(schema.pattern, 'u');
    } catch (err) {
      causes.push({ reason: 'FieldValueInvalid', field: `${at}.pattern`, message: `Invalid value: "${schema.pattern}": must be a valid regular expression, but isn't: ${(err as Error).message}` });
    }
  }
  if (schema.default !== undefined) {
    if (root) causes.push({ reason: 'FieldValueForbidden', field: `${at}.default`, message: 'Forbidden: must not be set at the root' });
    for (const c of validateAgainst({ ...schema, default: undefined }, schema.default, `${at}.default`)) causes.push(c);
  }
  for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    if (root && key === 'metadata') {
      validateRootMetadata(sub, `${at}.properties[metadata]`, causes);
      continue;
    }
    validateStructural(sub, `${at}.properties[${key}]`, false, causes);
  }
  if (schema.items && typeof schema.items === 'object') validateStructural(schema.items as JsonSchema, `${at}.items`, false, causes);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    if (schema.properties) causes.push({ reason: 'FieldValueForbidden', field: `${at}.additionalProperties`, message: 'Forbidden: additionalProperties and properties are mutual exclusive' });
    validateStructural(schema.additionalProperties as JsonSchema, `${at}.additionalProperties`, false, causes);
  }
}

/** At the root only name and generateName may be constrained; ObjectMeta belongs to the API. */
function validateRootMetadata(schema: JsonSchema, at: string, causes: StatusCause[]): void {
  if (schema.type !== undefined && schema.type !== 'object') causes.push({ reason: 'FieldValueInvalid', field: `${at}.type`, message: `Invalid value: "${String(schema.type)}": must be object` });
  for (const key of Object.keys((schema.properties ?? {}) as object)) {
    if (key !== 'name' && key !== 'generateName') causes.push({ reason: 'FieldValueForbidden', field: `${at}.properties[${key}]`, message: 'Forbidden: must not be specified' });
  }
}

function validateColumns(v: CrdVersion, at: string, causes: StatusCause[]): void {
  (v.additionalPrinterColumns ?? []).forEach((c, i) => {
    const field = `${at}.additionalPrinterColumns[${i}]`;
    if (!c.name) causes.push({ reason: 'FieldValueRequired', field: `${field}.name`, message: 'Required value' });
    if (!columnTypes.includes(c.type ?? '')) causes.push({ reason: 'FieldValueNotSupported', field: `${field}.type`, message: `Unsupported value: "${c.type ?? ''}": supported values: ${columnTypes.map((t) => `"${t}"`).join(', ')}` });
    if (!c.jsonPath) causes.push({ reason: 'FieldValueRequired', field: `${field}.jsonPath`, message: 'Required value' });
    else if (!c.jsonPath.startsWith('.')) causes.push({ reason: 'FieldValueInvalid', field: `${field}.jsonPath`, message: `Invalid value: "${c.jsonPath}": must be a simple json path starting with .` });
  });
}

function validateScale(v: CrdVersion, at: string, causes: StatusCause[]): void {
  const scale = v.subresources?.scale;
  if (!scale) return;
  const field = `${at}.subresources.scale`;
  if (!scale.specReplicasPath?.startsWith('.spec.')) causes.push({ reason: 'FieldValueInvalid', field: `${field}.specReplicasPath`, message: `Invalid value: "${scale.specReplicasPath ?? ''}": should be a json path under .spec` });
  if (!scale.statusReplicasPath?.startsWith('.status.')) causes.push({ reason: 'FieldValueInvalid', field: `${field}.statusReplicasPath`, message: `Invalid value: "${scale.statusReplicasPath ?? ''}": should be a json path under .status` });
  if (scale.labelSelectorPath && !/^\.(spec|status)\./.test(scale.labelSelectorPath)) causes.push({ reason: 'FieldValueInvalid', field: `${field}.labelSelectorPath`, message: `Invalid value: "${scale.labelSelectorPath}": should be a json path under either .spec or .status` });
}
