import { createHash } from 'node:crypto';
import type { ResourceCatalog } from '../resource-catalog';
import { apiVersionOf, resources, type ResourceInfo } from '../resources';
import { loadDescriptions, withDescriptions } from './descriptions';
import { openApiV2, type OpenApiV2Forms } from './openapi-v2';
// Generated from @kubernetes/client-node's models by scripts/gen-openapi-schemas.mjs.
import generatedSchemas from './schemas.json';

type Schema = Record<string, unknown>;


const baseSchemas = generatedSchemas as unknown as Record<string, Schema>;

const gvPath = (gv: { group: string; version: string }): string => (gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`);

/** Schemas with the GVK extension on each served kind, as kubectl's explain and patch code look them up. */
function schemasWithGvk(schemas: Record<string, Schema>): Record<string, Schema> {
  const out: Record<string, Schema> = { ...schemas };
  for (const r of resources.filter(isStoredOrReview)) {
    out[r.schema] = { ...out[r.schema], 'x-kubernetes-group-version-kind': [{ group: r.group, version: r.version, kind: r.kind }] };
  }
  out.V1Scale = { ...out.V1Scale, 'x-kubernetes-group-version-kind': [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }] };
  return out;
}

const queryParams = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));

const patchTypes = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function operation(r: ResourceInfo, action: string, ref: string): Schema {
  // kubectl uses the schema for strategic merge patches only when the PATCH body lists that type.
  const body = action === 'patch' ? { requestBody: { content: Object.fromEntries(patchTypes.map((t) => [t, { schema: { type: 'object' } }])), required: true } } : {};
  return {
    operationId: `${action}${r.kind}`,
    ...body,
    parameters: action === 'get' || action === 'list' ? [] : queryParams,
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
  };
}

const isStoredOrReview = (r: ResourceInfo): boolean => !r.computed;

function pathsFor(r: ResourceInfo): Record<string, Schema> {
  const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
  const item = `${collection}/{name}`;
  const paths: Record<string, Schema> = {
    [collection]: { get: operation(r, 'list', r.schema), post: operation(r, 'post', r.schema) },
    [item]: {
      get: operation(r, 'get', r.schema),
      put: operation(r, 'put', r.schema),
      patch: operation(r, 'patch', r.schema),
      delete: operation(r, 'delete', 'V1Status'),
    },
  };
  if (r.subresources.includes('status')) paths[`${item}/status`] = { get: operation(r, 'get', r.schema), put: operation(r, 'put', r.schema), patch: operation(r, 'patch', r.schema) };
  if (r.subresources.includes('scale')) paths[`${item}/scale`] = { get: operation(r, 'get', 'V1Scale'), put: operation(r, 'put', 'V1Scale'), patch: operation(r, 'patch', 'V1Scale') };
  return paths;
}

interface GroupDoc {
  body: string;
  hash: string;
}

/**
 * The OpenAPI v3 discovery index and one document per group-version. Built on the first request
 * for either, not at start: the documents carry every field's description, which an idle master
 * (and one that kubectl never asks for OpenAPI) should not hold. The documents of custom resources
 * are rebuilt when the catalog changes (a CRD created, changed or deleted).
 */
export class OpenApi {
  private builtIn: Map<string, GroupDoc> | undefined;
  private custom: { generation: number; docs: Map<string, GroupDoc> } | undefined;
  private v2Forms: { generation: number; forms: OpenApiV2Forms } | undefined;

  constructor(private readonly catalog: ResourceCatalog) {}

  private get docs(): Map<string, GroupDoc> {
    this.builtIn ??= buildDocs();
    if (this.custom?.generation !== this.catalog.generation) {
      this.custom = { generation: this.catalog.generation, docs: buildCustomDocs(this.catalog) };
    }
    return new Map([...this.builtIn, ...this.custom.docs]);
  }

  index(): string {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [path, doc] of this.docs) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
    return JSON.stringify({ paths });
  }

  /** path is the part after /openapi/v3/ (e.g. "apis/apps/v1"). */
  document(path: string): string | undefined {
    return this.docs.get(path)?.body;
  }

  /** The Swagger 2.0 document (/openapi/v2) in JSON and gnostic protobuf, built with the v3 ones on first use. */
  v2(): OpenApiV2Forms {
    if (this.v2Forms?.generation !== this.catalog.generation) {
      this.v2Forms = { generation: this.catalog.generation, forms: openApiV2([...this.docs.values()].map((d) => d.body)) };
    }
    return this.v2Forms.forms;
  }

  /** A schema by name: the built-in kinds' and their parts, or a served custom resource version's. */
  schema(name: string): Schema | undefined {
    return baseSchemas[name] ?? this.catalog.schema(name);
  }
}

function document(gv: { group: string; version: string }, served: ResourceInfo[], schemas: Record<string, Schema>): GroupDoc {
  const paths = Object.assign({}, ...served.map(pathsFor)) as Record<string, Schema>;
  const body = JSON.stringify({
    openapi: '3.0.0',
    info: { title: 'lotse', version: apiVersionOf(gv) },
    paths,
    components: { schemas },
  });
  return { body, hash: createHash('sha512').update(body).digest('hex').slice(0, 64).toUpperCase() };
}

function buildDocs(): Map<string, GroupDoc> {
  const docs = new Map<string, GroupDoc>();
  // The descriptions are parsed here and dropped once serialized into the bodies.
  const schemas = schemasWithGvk(withDescriptions(baseSchemas, loadDescriptions()));
  // The metrics API has no document here, as a cluster without metrics-server's aggregated one.
  const described = resources.filter(isStoredOrReview);
  const gvs = new Map(described.map((r) => [apiVersionOf(r), { group: r.group, version: r.version }]));
  for (const gv of gvs.values()) {
    const served = described.filter((r) => apiVersionOf(r) === apiVersionOf(gv));
    docs.set(gvPath(gv), document(gv, served, schemas));
  }
  return docs;
}

/** One document per custom group-version: its kinds' schemas and the built-in ones they refer to (ObjectMeta, Status...). */
function buildCustomDocs(catalog: ResourceCatalog): Map<string, GroupDoc> {
  const docs = new Map<string, GroupDoc>();
  const custom = catalog.customResources();
  if (custom.length === 0) return docs;
  const shared = withDescriptions(referenced(['V1ObjectMeta', 'V1Status', 'V1DeleteOptions', 'V1Scale']), loadDescriptions());
  shared.V1Scale = { ...shared.V1Scale, 'x-kubernetes-group-version-kind': [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }] };
  const gvs = new Map(custom.map((r) => [apiVersionOf(r), { group: r.group, version: r.version }]));
  for (const gv of gvs.values()) {
    const served = custom.filter((r) => apiVersionOf(r) === apiVersionOf(gv));
    const own = Object.fromEntries(served.map((r) => [r.schema, catalog.schema(r.schema) ?? { type: 'object' }]));
    docs.set(gvPath(gv), document(gv, served, { ...shared, ...own }));
  }
  return docs;
}

/** The named base schemas and every schema they reach through $ref. */
function referenced(names: string[]): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const visit = (name: string): void => {
    if (out[name] || !baseSchemas[name]) return;
    out[name] = baseSchemas[name];
    JSON.stringify(baseSchemas[name], (key, value: unknown) => {
      if (key === '$ref' && typeof value === 'string') visit(value.split('/').pop() ?? '');
      return value;
    });
  };
  names.forEach(visit);
  return out;
}

/**
 * Paths of fields the schema does not know (for fieldValidation=Strict/Warn), in Kubernetes'
 * dotted form. Objects with x-kubernetes-preserve-unknown-fields accept anything.
 */
export function unknownFields(schemaName: string, value: unknown, at = ''): string[] {
  return walk(baseSchemas[schemaName], value, at);
}

function walk(schema: Schema | undefined, value: unknown, at: string): string[] {
  if (!schema || value === null || typeof value !== 'object') return [];
  if (typeof schema.$ref === 'string') return walk(baseSchemas[schema.$ref.split('/').pop() ?? ''], value, at);
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    return value.flatMap((v, i) => walk(items, v, `${at}[${i}]`));
  }
  if (schema['x-kubernetes-preserve-unknown-fields']) return [];
  const props = schema.properties as Record<string, Schema> | undefined;
  if (!props) {
    const additional = schema.additionalProperties as Schema | undefined;
    return additional ? Object.entries(value).flatMap(([k, v]) => walk(additional, v, `${at}[${k}]`)) : [];
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const path = at ? `${at}.${k}` : k;
    if (!(k in props)) out.push(path);
    else out.push(...walk(props[k], v, path));
  }
  return out;
}
