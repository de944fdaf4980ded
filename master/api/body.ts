import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { errors } from './status';
import { decodeProtobufObject } from './protobuf/decode-protobuf';

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
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(raw);
  const text = raw.toString('utf8');
  if (!text.trim()) throw errors.badRequest('the request body is empty');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      return YAML.parse(text, { maxAliasCount: 100 });
    } catch (err) {
      throw errors.badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  }
  if (['application/json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json', '*/*', ''].includes(type)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw errors.badRequest(`error decoding JSON: ${(err as Error).message}`);
    }
  }
  throw errors.unsupportedMediaType(type);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
