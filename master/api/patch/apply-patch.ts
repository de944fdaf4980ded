import * as jsonPatch from 'fast-json-patch';
import YAML from 'yaml';
import type { Obj } from '../registry';
import { errors } from '../status';
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
  try {
    return kind === 'apply' ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`error decoding ${kind} patch: ${(err as Error).message}`);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Applies one patch document to the current object, returning the patched copy. */
export function applyPatch(kind: PatchKind, current: Obj, patch: unknown, schemaName: string, lookup: SchemaLookup): Obj {
  switch (kind) {
    case 'json': {
      if (!Array.isArray(patch)) throw errors.badRequest('a JSON patch must be an array of operations');
      try {
        return jsonPatch.applyPatch(structuredClone(current), patch as jsonPatch.Operation[], true, false).newDocument as Obj;
      } catch (err) {
        throw errors.invalid({ kind: String(current.kind), group: '', plural: '' }, String(current.metadata?.name), [{ message: `the JSON patch could not be applied: ${(err as Error).message}` }]);
      }
    }
    case 'merge':
      return mergePatch(current as unknown as Json, patch as Json) as unknown as Obj;
    case 'strategic':
    case 'apply':
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw errors.badRequest(`a ${kind} patch must be an object`);
      return strategicMerge(current as unknown as { [k: string]: Json }, patch as { [k: string]: Json }, schemaName, lookup) as unknown as Obj;
  }
}
