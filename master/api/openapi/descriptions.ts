import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = Record<string, unknown>;

/** Model -> { "": the model's description, field -> the field's description }. */
export type Descriptions = Record<string, Record<string, string>>;

/**
 * Reads descriptions.json (generated next to this module by scripts/gen-openapi-schemas.mjs, and
 * copied to dist/ by tsconfig.build.json). Read from disk on demand rather than imported: only
 * the served OpenAPI documents (kubectl explain) need the text, so an idle master never holds it.
 */
export function loadDescriptions(): Descriptions {
  return JSON.parse(readFileSync(join(__dirname, 'descriptions.json'), 'utf8')) as Descriptions;
}

/** Copies of the schemas with `description` on each model and each described property. */
export function withDescriptions(schemas: Record<string, Schema>, descriptions: Descriptions): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const [name, schema] of Object.entries(schemas)) out[name] = describeModel(schema, descriptions[name] ?? {});
  return out;
}

function describeModel(schema: Schema, texts: Record<string, string>): Schema {
  const props = schema.properties as Record<string, Schema> | undefined;
  const described: Schema = texts[''] ? { description: texts[''], ...schema } : { ...schema };
  if (props) {
    described.properties = Object.fromEntries(Object.entries(props).map(([field, prop]) => [field, describeProperty(prop, texts[field])]));
  }
  return described;
}

function describeProperty(prop: Schema, text: string | undefined): Schema {
  if (!text) return prop;
  // OpenAPI 3.0 ignores siblings of $ref, so a described reference goes in allOf, as Kubernetes serves it.
  if (typeof prop.$ref === 'string') return { description: text, allOf: [{ $ref: prop.$ref }] };
  return { description: text, ...prop };
}
