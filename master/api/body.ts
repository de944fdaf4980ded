import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { errors } from './status';
import { decodeProtobufObject } from './protobuf/decode-protobuf';
import { checkValueDepth, checkYamlDepth } from './limits/nesting-depth';

/** Kubernetes' limit on a request body. */
export const maxBodyBytes = 3 * 1024 * 1024;

const bodies = new WeakMap<IncomingMessage, Promise<Buffer>>();

/**
 * The request body, read once: authorization may look at it (a node creating its own Node)
 * before the handler does, and both get the same bytes.
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  let body = bodies.get(req);
  if (!body) {
    body = readStream(req);
    bodies.set(req, body);
  }
  return body;
}

async function readStream(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) throw errors.tooLarge(maxBodyBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw errors.tooLarge(maxBodyBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
}

/** Parses a JSON or YAML body into a value, with a 400 that says where it went wrong. */
export function parseBody(raw: Buffer, type: string): unknown {
  // kubectl's typed create subcommands send protobuf and do not retry as JSON on a 415.
  if (type === 'application/vnd.kubernetes.protobuf') return checked(decodeProtobufObject(raw), 'protobuf');
  const text = raw.toString('utf8');
  if (!text.trim()) throw errors.badRequest('the request body is empty');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') return decodeYaml(text);
  if (['application/json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json', '*/*', ''].includes(type)) {
    if (type !== 'application/json') return decodeJson(text);
    // The apiserver's JSON decoder also reads YAML (JSON is YAML): a YAML manifest labelled
    // application/json is created, not refused.
    try {
      return decodeJson(text);
    } catch (err) {
      const yaml = yamlObject(text);
      if (yaml === undefined) throw err;
      return yaml;
    }
  }
  throw errors.unsupportedMediaType(type);
}

/** JSON text to a value no deeper than the nesting limit (V8's parser itself is iterative). */
export function decodeJson(text: string, what = 'JSON'): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`error decoding ${what}: ${(err as Error).message}`);
  }
  return checked(value, what);
}

/** YAML text to a value, refused before parsing when it nests too deep, and with aliases bounded. */
export function decodeYaml(text: string, what = 'YAML'): unknown {
  checkYamlDepth(text);
  let value: unknown;
  try {
    value = YAML.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw errors.badRequest(`error decoding ${what}: ${(err as Error).message}`);
  }
  return checked(value, what);
}

function checked(value: unknown, what: string): unknown {
  checkValueDepth(value, what);
  return value;
}

/** The text as a YAML mapping (depth-checked), or undefined when it is not one. */
function yamlObject(text: string): unknown {
  try {
    const value = decodeYaml(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
