import protobuf from 'protobufjs';

/**
 * The part of gnostic's openapi_v2 protobuf schema (github.com/google/gnostic, OpenAPIv2.proto)
 * that a Swagger 2.0 document built by lotse uses. kubectl 1.27/1.28 read /openapi/v2 only in this
 * form (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf) for client-side
 * validation, field-validation support and `kubectl edit`. Field numbers are gnostic's; fields
 * lotse never writes are left out (a reader skips what it does not find anyway).
 *
 * Vendor extensions, defaults and enum values are gnostic `Any`s carrying their value as YAML
 * text; JSON is YAML, so they are written as JSON.
 */
const gnosticV2Proto = `
syntax = "proto3";
package openapi.v2;

message Any { string yaml = 2; }
message NamedAny { string name = 1; Any value = 2; }

message Info { string title = 1; string version = 2; string description = 3; }

message Document {
  string swagger = 1; Info info = 2; string base_path = 4;
  repeated string consumes = 6; repeated string produces = 7;
  Paths paths = 8; Definitions definitions = 9;
}
message Paths { repeated NamedAny vendor_extension = 1; repeated NamedPathItem path = 2; }
message NamedPathItem { string name = 1; PathItem value = 2; }
message PathItem {
  Operation get = 2; Operation put = 3; Operation post = 4; Operation delete = 5; Operation patch = 8;
  repeated ParametersItem parameters = 9;
}
message Operation {
  string description = 3; string operation_id = 5;
  repeated string produces = 6; repeated string consumes = 7;
  repeated ParametersItem parameters = 8; Responses responses = 9;
  repeated string schemes = 10;
  repeated NamedAny vendor_extension = 13;
}
message ParametersItem { oneof oneof { Parameter parameter = 1; } }
message Parameter { oneof oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }
message BodyParameter { string description = 1; string name = 2; string in = 3; bool required = 4; Schema schema = 5; }
message NonBodyParameter { oneof oneof { QueryParameterSubSchema query_parameter_sub_schema = 3; PathParameterSubSchema path_parameter_sub_schema = 4; } }
message QueryParameterSubSchema { bool required = 1; string in = 2; string description = 3; string name = 4; string type = 6; bool unique_items = 20; }
message PathParameterSubSchema { bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; bool unique_items = 19; }
message Responses { repeated NamedResponseValue response_code = 1; }
message NamedResponseValue { string name = 1; ResponseValue value = 2; }
message ResponseValue { oneof oneof { Response response = 1; } }
message Response { string description = 1; SchemaItem schema = 2; }
message SchemaItem { oneof oneof { Schema schema = 1; } }

message Definitions { repeated NamedSchema additional_properties = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message Schema {
  string _ref = 1; string format = 2; string title = 3; string description = 4; Any default = 5;
  repeated string required = 19; repeated Any enum = 20;
  AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23;
  repeated Schema all_of = 24; Properties properties = 25;
  repeated NamedAny vendor_extension = 31;
}
`;

type Json = Record<string, unknown>;

let documentType: protobuf.Type | undefined;

function type(): protobuf.Type {
  if (!documentType) {
    const root = protobuf.parse(gnosticV2Proto, { keepCase: true }).root;
    root.resolveAll();
    documentType = root.lookupType('openapi.v2.Document');
  }
  return documentType;
}

/** Encodes a Swagger 2.0 document (plain JSON) as gnostic's openapi_v2.Document. */
export function encodeGnosticV2(doc: Json): Buffer {
  const t = type();
  const message = t.fromObject(documentMessage(doc));
  return Buffer.from(t.encode(message).finish());
}

function documentMessage(doc: Json): Json {
  const paths = (doc.paths ?? {}) as Record<string, Json>;
  const definitions = (doc.definitions ?? {}) as Record<string, Json>;
  return {
    swagger: doc.swagger,
    info: doc.info,
    paths: { path: Object.entries(paths).map(([name, item]) => ({ name, value: pathItem(item) })) },
    definitions: { additional_properties: Object.entries(definitions).map(([name, s]) => ({ name, value: schema(s) })) },
  };
}

function pathItem(item: Json): Json {
  const out: Json = {};
  for (const method of ['get', 'put', 'post', 'delete', 'patch']) if (item[method]) out[method] = operation(item[method] as Json);
  if (Array.isArray(item.parameters)) out.parameters = item.parameters.map((p) => parameter(p as Json));
  return out;
}

function operation(op: Json): Json {
  const responses = (op.responses ?? {}) as Record<string, Json>;
  return {
    description: op.description,
    operation_id: op.operationId,
    consumes: op.consumes,
    produces: op.produces,
    schemes: op.schemes,
    parameters: ((op.parameters ?? []) as Json[]).map(parameter),
    responses: {
      response_code: Object.entries(responses).map(([code, r]) => ({
        name: code,
        value: { response: { description: r.description ?? '', ...(r.schema ? { schema: { schema: schema(r.schema as Json) } } : {}) } },
      })),
    },
    vendor_extension: extensions(op),
  };
}

function parameter(p: Json): Json {
  if (p.in === 'body') return { parameter: { body_parameter: { name: p.name, in: 'body', required: Boolean(p.required), description: p.description, schema: schema((p.schema ?? {}) as Json) } } };
  const sub = { name: p.name, in: p.in, required: Boolean(p.required), description: p.description, type: p.type, unique_items: Boolean(p.uniqueItems) };
  return { parameter: { non_body_parameter: p.in === 'path' ? { path_parameter_sub_schema: sub } : { query_parameter_sub_schema: sub } } };
}

function schema(s: Json): Json {
  const out: Json = {};
  if (typeof s.$ref === 'string') out._ref = s.$ref;
  for (const k of ['format', 'title', 'description'] as const) if (typeof s[k] === 'string') out[k] = s[k];
  if (s.default !== undefined) out.default = { yaml: JSON.stringify(s.default) };
  if (Array.isArray(s.required)) out.required = s.required;
  if (Array.isArray(s.enum)) out.enum = s.enum.map((v) => ({ yaml: JSON.stringify(v) }));
  if (typeof s.type === 'string') out.type = { value: [s.type] };
  if (s.items && typeof s.items === 'object') out.items = { schema: [schema(s.items as Json)] };
  if (typeof s.additionalProperties === 'boolean') out.additional_properties = { boolean: s.additionalProperties };
  else if (s.additionalProperties && typeof s.additionalProperties === 'object') out.additional_properties = { schema: schema(s.additionalProperties as Json) };
  if (Array.isArray(s.allOf)) out.all_of = s.allOf.map((x) => schema(x as Json));
  if (s.properties && typeof s.properties === 'object') {
    out.properties = { additional_properties: Object.entries(s.properties as Record<string, Json>).map(([name, p]) => ({ name, value: schema(p) })) };
  }
  const ext = extensions(s);
  if (ext.length) out.vendor_extension = ext;
  return out;
}

function extensions(o: Json): Json[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, v]) => ({ name, value: { yaml: JSON.stringify(v) } }));
}
