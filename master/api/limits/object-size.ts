import type { ResourceInfo } from '../resources';
import { HttpError } from '../status';

/** etcd's default --max-request-bytes: the largest object Kubernetes can store (1.5 MiB). */
export const maxObjectBytes = 1.5 * 1024 * 1024;
/** Kubernetes' limit on a ConfigMap's or Secret's data and binaryData together (1 MiB). */
export const maxDataBytes = 1024 * 1024;

const dataKinds = new Set(['ConfigMap', 'Secret']);

/**
 * Refuses an object before it is validated or stored when it is larger than Kubernetes allows:
 * 1 MiB of ConfigMap/Secret data (422, as the upstream validation), 1.5 MiB serialised (413, as
 * upstream when etcd refuses the request). The answer says which limit and by how much.
 */
export function checkObjectSize(r: ResourceInfo, obj: Record<string, unknown>): void {
  if (dataKinds.has(r.kind)) {
    const data = dataBytes(obj);
    if (data > maxDataBytes) {
      const name = String((obj.metadata as { name?: unknown } | undefined)?.name ?? '');
      const message = `Too long: may not be more than ${maxDataBytes} bytes (the data holds ${data} bytes, ${data - maxDataBytes} over)`;
      throw new HttpError(422, 'Invalid', `${r.kind} "${name}" is invalid: data: ${message}`, {
        name,
        group: r.group,
        kind: r.kind,
        causes: [{ reason: 'FieldValueTooLong', field: 'data', message }],
      });
    }
  }
  const size = serialisedBytes(obj);
  if (size > maxObjectBytes) throw objectTooLarge(size);
}

export function objectTooLarge(size: number): HttpError {
  return new HttpError(
    413,
    'RequestEntityTooLarge',
    `Request entity too large: the object is ${size} bytes, ${size - maxObjectBytes} over the limit of ${maxObjectBytes} bytes per object (etcd's request limit); keep large data out of the API, for example in a volume`,
  );
}

/** Bytes of the data values as Kubernetes counts them: decoded bytes, keys not counted. */
function dataBytes(obj: Record<string, unknown>): number {
  let total = 0;
  for (const field of ['data', 'binaryData', 'stringData']) {
    const map = obj[field];
    if (typeof map !== 'object' || map === null) continue;
    // Secret data and ConfigMap binaryData travel as base64; the limit is on what they decode to.
    const base64 = field === 'binaryData' || (field === 'data' && obj.kind === 'Secret');
    for (const value of Object.values(map as Record<string, unknown>)) {
      if (typeof value !== 'string') continue;
      total += base64 ? Math.floor((value.length * 3) / 4) : Buffer.byteLength(value);
    }
  }
  return total;
}

function serialisedBytes(obj: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(obj));
}
