import type { ErrorObject } from 'ajv';

/**
 * One ajv error in the words of the file a user wrote: `/hosts/1/role` becomes `hosts[1].role`,
 * followed by what was expected. `patternHint` explains a failed pattern for the key it names.
 */
export function describeSchemaError(e: ErrorObject, patternHint: (path: string) => string): string {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  const where = path || '(top level)';
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${path ? `${path}.` : ''}${String(params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${path ? `${path}.` : ''}${String(params.additionalProperty)} is not a known key`;
    case 'enum':
      return `${where} must be one of ${(params.allowedValues as unknown[]).join(', ')} (got ${JSON.stringify(e.data)})`;
    case 'pattern':
      return `${where} ${patternHint(path)}`;
    default:
      return `${where} ${e.message ?? 'is invalid'}`;
  }
}
