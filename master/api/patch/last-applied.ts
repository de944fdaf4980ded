import { decodeJson } from '../body';
import type { Obj } from '../registry';
import { difference, type FieldSet } from './field-set';
import type { FieldType } from './field-type';
import { compare, fieldSetOf, type Json } from './typed-value';

/** Where client-side `kubectl apply` keeps the configuration it applied last. */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** Only kubectl's default server-side manager takes over from client-side apply, as in Kubernetes. */
export const upgradingManager = 'kubectl';

/**
 * The fields client-side apply still manages according to its annotation: those it applied
 * whose live value is still the one it applied. `kubectl apply --server-side` may take these
 * over without a conflict (Kubernetes' lastAppliedManager); anything changed since by someone
 * else still conflicts. Undefined when there is no readable annotation.
 */
export function lastAppliedFields(live: Obj, type: FieldType): FieldSet | undefined {
  const text = live.metadata?.annotations?.[lastAppliedAnnotation];
  if (!text) return undefined;
  let last: unknown;
  try {
    last = decodeJson(text, 'last-applied annotation');
  } catch {
    return undefined; // a hand-edited (or too deep) annotation grants nothing
  }
  if (typeof last !== 'object' || last === null || Array.isArray(last)) return undefined;
  const lastJson = last as Json;
  return difference(fieldSetOf(lastJson, type), compare(lastJson, live as unknown as Json, type).modified);
}

/**
 * kubectl's server-side apply keeps an existing annotation in step with what it applies, so
 * that a later client-side apply computes its three-way merge from the right base.
 */
export function syncLastApplied(obj: Obj, config: Obj): void {
  const annotations = obj.metadata?.annotations;
  if (!annotations?.[lastAppliedAnnotation]) return;
  const copy = structuredClone(config);
  const own = copy.metadata?.annotations;
  if (own) {
    delete own[lastAppliedAnnotation];
    if (Object.keys(own).length === 0 && copy.metadata) delete copy.metadata.annotations;
  }
  annotations[lastAppliedAnnotation] = JSON.stringify(copy);
}
