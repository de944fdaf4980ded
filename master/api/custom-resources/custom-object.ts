import type { Obj } from '../registry';
import type { ResourceInfo } from '../resources';
import type { StatusCause } from '../status';
import { applySchemaDefaults, prune, validateAgainst } from './structural-schema';

/**
 * What a write of a custom resource goes through before it is stored, in the apiserver's order:
 * unknown fields pruned, defaults applied, pruned again (a default may bring what the schema
 * drops), then validated.
 */
export function prepareCustomObject(r: ResourceInfo, obj: Obj): void {
  const schema = r.custom?.schema;
  prune(schema, obj);
  applySchemaDefaults(schema, obj);
  prune(schema, obj);
}

/** The fields a write carries that the schema does not know (for fieldValidation), without changing the object. */
export function unknownCustomFields(r: ResourceInfo, obj: Obj): string[] {
  return prune(r.custom?.schema, structuredClone(obj));
}

/** Custom resource names need only be valid path segments, as in Kubernetes. */
export function validateCustomObject(r: ResourceInfo, obj: Obj): StatusCause[] {
  const causes = validateAgainst(r.custom?.schema, obj);
  const name = obj.metadata?.name;
  if (typeof name === 'string' && (name === '.' || name === '..' || /[/%]/.test(name))) {
    causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": may not be '.' or '..' and may not contain '/' or '%'` });
  }
  return causes;
}
