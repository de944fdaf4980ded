import protobuf from 'protobufjs';
import { HttpError } from '../status';
import { k8sSubsetPackage, k8sSubsetProto, messageForKind } from './k8s-subset';
import { protoToJson } from './proto-to-json';

/** Every Kubernetes protobuf body starts with these bytes, then a runtime.Unknown message. */
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, bytes: String, defaults: false, arrays: false, objects: false };

let root: protobuf.Root | undefined;

function schema(): protobuf.Root {
  if (!root) {
    root = protobuf.parse(k8sSubsetProto, { keepCase: true }).root;
    root.resolveAll();
  }
  return root;
}

function lookup(name: string): protobuf.Type {
  return schema().lookupType(`${k8sSubsetPackage}.${name}`);
}

/**
 * Decodes an `application/vnd.kubernetes.protobuf` request body (what kubectl's typed `create`
 * subcommands send) into the JSON object form the rest of the API server works with.
 * Throws an HttpError: 400 for a malformed body, 415 for a kind this server cannot read as protobuf.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw new HttpError(400, 'BadRequest', 'error decoding protobuf: the body does not start with the Kubernetes protobuf prefix "k8s\\x00"; send application/json instead');
  }
  const envelope = decodeMessage(lookup('Unknown'), body.subarray(magic.length), 'the runtime.Unknown envelope');
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (!kind || !apiVersion) {
    throw new HttpError(400, 'BadRequest', 'error decoding protobuf: the envelope names no apiVersion/kind (runtime.Unknown typeMeta is empty)');
  }
  if (envelope.contentEncoding) {
    throw new HttpError(415, 'UnsupportedMediaType', `protobuf bodies with contentEncoding "${String(envelope.contentEncoding)}" are not supported; send the object uncompressed or as application/json`);
  }
  const messageName = messageForKind[`${apiVersion}/${kind}`] ?? messageForKind[`*/${kind}`];
  if (!messageName) {
    throw new HttpError(
      415,
      'UnsupportedMediaType',
      `this server cannot decode ${kind} (${apiVersion}) sent as application/vnd.kubernetes.protobuf; ` +
        `protobuf is understood for ${Object.keys(messageForKind).map((k) => k.replace(/^\*\//, '')).join(', ')} only. Send it as JSON or YAML instead, e.g. with \`kubectl apply -f\``,
      { kind },
    );
  }
  const type = lookup(messageName);
  const raw = Buffer.from(String(envelope.raw ?? ''), 'base64');
  const object = protoToJson(type, decodeMessage(type, raw, `the ${kind} object`));
  return { apiVersion, kind, ...object };
}

function decodeMessage(type: protobuf.Type, bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    return type.toObject(type.decode(bytes), toObjectOptions) as Record<string, unknown>;
  } catch (err) {
    throw new HttpError(400, 'BadRequest', `error decoding protobuf: ${what} is malformed (${(err as Error).message})`);
  }
}
