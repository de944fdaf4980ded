import { decodeJson, decodeYaml } from '../body';
import type { Obj } from '../registry';
import { errors } from '../status';
import { applyJsonPatch } from './json-patch';
import { mergePatch } from './merge-patch';
import { strategicMerge, type SchemaLookup } from './strategic-merge';

export type PatchKind = 'json' | 'merge' | 'strategic' | 'apply';

export function patchKind(mediaType: string): PatchKind {
  switch (mediaType) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
      return 'apply';
    default:
      throw errors.unsupportedMediaType(mediaType);
  }
}

export function parsePatch(kind: PatchKind, raw: Buffer): unknown {
  const text = raw.toString('utf8');
  return kind === 'apply' ? decodeYaml(text, 'apply patch') : decodeJson(text, `${kind} patch`);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Applies one patch document to the current object, returning the patched copy. */
export function applyPatch(kind: PatchKind, current: Obj, patch: unknown, schemaName: string, lookup: SchemaLookup): Obj {
  const patched = patchWith(kind, current, patch, schemaName, lookup);
  // RFC 6902 may replace the root and RFC 7386 a non-object patch replaces the whole document.
  if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) {
    throw errors.invalid({ kind: String(current.kind), group: '', plural: '' }, String(current.metadata?.name), [{ message: 'the patch must leave an object, not replace it with a value of another type' }]);
  }
  return patched;
}

function patchWith(kind: PatchKind, current: Obj, patch: unknown, schemaName: string, lookup: SchemaLookup): Obj {
  switch (kind) {
    case 'json':
      return applyJsonPatch(current, patch);
    case 'merge':
      return mergePatch(current as unknown as Json, patch as Json) as unknown as Obj;
    case 'strategic':
    case 'apply':
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw errors.badRequest(`a ${kind} patch must be an object`);
      return strategicMerge(current as unknown as { [k: string]: Json }, patch as { [k: string]: Json }, schemaName, lookup) as unknown as Obj;
  }
}
