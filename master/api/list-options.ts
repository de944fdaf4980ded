import { Selector } from '../../kube/label-selector';
import { checkFieldLabels } from './field-labels';
import { FieldSelector } from './field-selector';
import type { ResourceInfo } from './resources';
import { errors } from './status';

/** The query parameters of a get, list, watch or deletecollection, checked as Kubernetes does. */
export interface ListOptions {
  labelSelector?: Selector;
  fieldSelector: FieldSelector;
  /** Undefined or a positive integer. */
  limit?: number;
  /** '' (most recent), or a non-negative integer as text. */
  resourceVersion: string;
  /** Undefined or a positive integer. */
  timeoutSeconds?: number;
}

/**
 * Reads the query, refusing (400) what Kubernetes refuses instead of ignoring it: `limit=abc`,
 * a resourceVersion that is not one this server could have returned, a field selector on a field
 * the kind cannot be selected by, a malformed label selector.
 */
export function parseListOptions(r: ResourceInfo, query: URLSearchParams): ListOptions {
  const fieldSelector = FieldSelector.parse(query.get('fieldSelector'));
  checkFieldLabels(r.kind, fieldSelector);
  return {
    labelSelector: parseLabels(query.get('labelSelector')),
    fieldSelector,
    limit: positiveInteger(query, 'limit'),
    resourceVersion: resourceVersionOf(query),
    timeoutSeconds: positiveInteger(query, 'timeoutSeconds'),
  };
}

/** `?resourceVersion=` of any request: empty, or a revision number. */
export function resourceVersionOf(query: URLSearchParams): string {
  const rv = query.get('resourceVersion') ?? '';
  if (rv !== '' && !/^\d{1,19}$/.test(rv)) throw errors.badRequest(`invalid resourceVersion "${rv.slice(0, 100)}": it must be a resourceVersion returned by this server (an integer), or empty`);
  return rv;
}

function positiveInteger(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  if (!/^-?\d{1,15}$/.test(text)) throw errors.badRequest(`invalid ${name} "${text.slice(0, 100)}": it must be an integer`);
  const n = Number(text);
  return n > 0 ? n : undefined;
}

function parseLabels(text: string | null): Selector | undefined {
  if (!text) return undefined;
  try {
    return Selector.parse(text);
  } catch (err) {
    throw errors.badRequest(`invalid label selector: ${(err as Error).message}`);
  }
}
