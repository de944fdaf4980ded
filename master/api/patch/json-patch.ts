import * as jsonPatch from 'fast-json-patch';
import { maxBodyBytes } from '../body';
import { objectTooLarge, maxObjectBytes } from '../limits/object-size';
import type { Obj } from '../registry';
import { errors } from '../status';

/** Kubernetes' limit on operations in one JSON patch. */
export const maxJsonPatchOperations = 10_000;
/**
 * Bytes that `copy` operations may duplicate in one patch, as Kubernetes' AccumulatedCopySizeLimit:
 * without it, 22 copies of a doubling array make a 2 KB patch grow to gigabytes.
 */
export const maxCopiedBytes = maxBodyBytes;

/**
 * Applies an RFC 6902 patch one operation at a time, refusing (413) as soon as the copies made
 * or the values added would take the document past the per-object limit: the bound holds while
 * the patch runs, not after an out-of-memory.
 */
export function applyJsonPatch(current: Obj, patch: unknown): Obj {
  if (!Array.isArray(patch)) throw errors.badRequest('a JSON patch must be an array of operations');
  if (patch.length > maxJsonPatchOperations) {
    throw errors.tooLargeRequest(`the JSON patch has ${patch.length} operations, ${patch.length - maxJsonPatchOperations} over the limit of ${maxJsonPatchOperations}`);
  }
  let doc: unknown = structuredClone(current);
  let size = Buffer.byteLength(JSON.stringify(doc));
  let copied = 0;
  for (const [i, op] of (patch as jsonPatch.Operation[]).entries()) {
    const grows = growth(doc, op);
    if (op?.op === 'copy') {
      copied += grows;
      if (copied > maxCopiedBytes) {
        throw errors.tooLargeRequest(`the copy operations of the JSON patch duplicate ${copied} bytes by operation ${i}, over the limit of ${maxCopiedBytes}`);
      }
    }
    size += grows;
    // Adds and copies only ever add their value's size (replace and move free some); an estimate
    // over the limit is measured exactly before refusing.
    if (size > maxObjectBytes) {
      size = Buffer.byteLength(JSON.stringify(doc));
      if (size + grows > maxObjectBytes) throw objectTooLarge(size + grows);
    }
    try {
      doc = jsonPatch.applyOperation(doc, op, true, true, true, i).newDocument;
    } catch (err) {
      throw errors.invalid({ kind: String(current.kind), group: '', plural: '' }, String(current.metadata?.name), [{ message: `the JSON patch could not be applied: ${(err as Error).message}` }]);
    }
  }
  return doc as Obj;
}

/** Bytes an add, copy or replace may add: the size of the value it writes. */
function growth(doc: unknown, op: jsonPatch.Operation): number {
  if (typeof op !== 'object' || op === null) return 0;
  if (op.op === 'add' || op.op === 'replace') return Buffer.byteLength(JSON.stringify(op.value) ?? '');
  if (op.op !== 'copy' || typeof op.from !== 'string') return 0;
  try {
    return Buffer.byteLength(JSON.stringify(jsonPatch.getValueByPointer(doc, op.from)) ?? '');
  } catch {
    return 0; // a bad pointer fails in applyOperation with its own message
  }
}
