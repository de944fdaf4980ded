/**
 * Equal as the apiserver's typed objects compare: key order does not matter and a null field is
 * an absent one (kubectl sends `creationTimestamp: null` in pod templates it read back).
 *
 * A structural walk that stops at the first difference: every update compares the whole object
 * with its stored version, and a canonical text of both (the first version) cost a node status
 * write ~40 times as much. It holds across realms (as in jest's VM): only typeof and
 * Array.isArray are used, no prototypes.
 */
export function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isObject(a) || !isObject(b)) return absentAsUndefined(a) === absentAsUndefined(b);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && sameItems(a, b);
  return sameFields(a, b);
}

function sameItems(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameContent(a[i], b[i])) return false;
  return true;
}

function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  let present = 0;
  for (const key of Object.keys(a)) {
    const value = a[key];
    if (value === null || value === undefined) continue;
    present++;
    if (!sameContent(value, b[key])) return false;
  }
  for (const key of Object.keys(b)) {
    const value = b[key];
    if (value !== null && value !== undefined) present--;
  }
  return present === 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** null and undefined are one value here; a number compares as JSON writes it (-0 is 0). */
function absentAsUndefined(v: unknown): unknown {
  if (v === null) return undefined;
  if (typeof v === 'number' && !Number.isFinite(v)) return undefined; // JSON writes NaN and ±Infinity as null
  return v;
}
