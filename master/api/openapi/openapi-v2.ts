import { createHash } from 'node:crypto';
import { encodeGnosticV2 } from './gnostic-v2';

type Json = Record<string, unknown>;

/** What kubectl 1.27/1.28 ask /openapi/v2 for; anything else gets JSON. */
export const openApiV2ProtobufAccept = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** The Content-Type the apiserver answers the protobuf form with. */
export const openApiV2ProtobufType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export interface OpenApiV2Forms {
  json: string;
  protobuf: Buffer;
  etag: string;
}

/**
 * The Swagger 2.0 document (/openapi/v2) made from the OpenAPI v3 group-version documents, as the
 * apiserver serves both from one spec: one `definitions` map (v3 `$ref`s rewritten to it), every
 * path with v2 parameters (path, query, body), the GVK and action extensions kubectl looks up.
 */
export function openApiV2(v3Documents: Iterable<string>): OpenApiV2Forms {
  const paths: Record<string, Json> = {};
  const definitions: Record<string, Json> = {};
  for (const body of v3Documents) {
    const doc = JSON.parse(body) as { paths?: Record<string, Json>; components?: { schemas?: Record<string, Json> } };
    for (const [name, s] of Object.entries(doc.components?.schemas ?? {})) definitions[name] ??= toV2Schema(s);
    for (const [path, item] of Object.entries(doc.paths ?? {})) paths[path] = toV2PathItem(path, item);
  }
  const document = { swagger: '2.0', info: { title: 'lotse', version: 'v1.32.0-lotse' }, paths, definitions };
  const json = JSON.stringify(document);
  return { json, protobuf: encodeGnosticV2(document), etag: `"${createHash('sha512').update(json).digest('hex').slice(0, 64).toUpperCase()}"` };
}

const methods = ['get', 'put', 'post', 'delete', 'patch'] as const;
const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

function toV2PathItem(path: string, item: Json): Json {
  const out: Json = {};
  const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, type: 'string', uniqueItems: true }));
  if (pathParams.length) out.parameters = pathParams;
  for (const method of methods) {
    const op = item[method] as Json | undefined;
    if (op) out[method] = toV2Operation(method, op);
  }
  return out;
}

function toV2Operation(method: string, op: Json): Json {
  const params = ((op.parameters ?? []) as Json[]).map((p) => {
    const s = (p.schema ?? {}) as Json;
    return { name: p.name, in: p.in, type: s.type ?? 'string', ...(s.uniqueItems ? { uniqueItems: true } : {}) };
  });
  const responseSchema = ((((op.responses as Json | undefined)?.['200'] as Json | undefined)?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as Json | undefined;
  const bodySchema = method === 'patch' ? { type: 'object' } : responseSchema;
  const body = ['put', 'post', 'patch'].includes(method) && bodySchema ? [{ name: 'body', in: 'body', required: true, schema: toV2Schema(bodySchema) }] : [];
  const out: Json = {
    operationId: op.operationId,
    consumes: method === 'patch' ? patchTypes : ['*/*'],
    produces: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
    schemes: ['https'],
    parameters: [...body, ...params],
    responses: { '200': { description: 'OK', ...(responseSchema ? { schema: toV2Schema(responseSchema) } : {}) }, '401': { description: 'Unauthorized' } },
  };
  for (const [k, v] of Object.entries(op)) if (k.startsWith('x-')) out[k] = v;
  return out;
}

/**
 * One v3 schema in v2 form: `#/components/schemas/X` becomes `#/definitions/X`; a described
 * reference (`allOf: [$ref]`, v3's way) becomes `$ref` with its description beside it; the
 * int-or-string `anyOf` becomes v2's `type: string, format: int-or-string`.
 */
export function toV2Schema(s: Json): Json {
  if (typeof s.$ref === 'string') return { $ref: v2Ref(s.$ref) };
  const allOf = s.allOf as Json[] | undefined;
  if (allOf?.length === 1 && typeof allOf[0].$ref === 'string') return { ...(s.description ? { description: s.description } : {}), $ref: v2Ref(allOf[0].$ref) };
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'anyOf' || k === 'oneOf' || k === 'allOf' || k === 'nullable') continue;
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Record<string, Json>).map(([name, p]) => [name, toV2Schema(p)]));
    else if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) out[k] = toV2Schema(v as Json);
    else out[k] = v;
  }
  if (s['x-kubernetes-int-or-string']) Object.assign(out, { type: 'string', format: 'int-or-string' });
  return out;
}

function v2Ref(ref: string): string {
  return ref.replace('#/components/schemas/', '#/definitions/');
}

/** The form the client asks for: protobuf for kubectl's discovery client, JSON otherwise. */
export function negotiateOpenApiV2(accept: string | undefined, forms: OpenApiV2Forms): { body: string | Buffer; headers: Record<string, string> } {
  const headers = { etag: forms.etag, vary: 'Accept' };
  if ((accept ?? '').includes(openApiV2ProtobufAccept)) return { body: forms.protobuf, headers: { ...headers, 'content-type': openApiV2ProtobufType } };
  return { body: forms.json, headers: { ...headers, 'content-type': 'application/json' } };
}
