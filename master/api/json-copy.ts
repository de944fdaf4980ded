/**
 * A deep copy of a JSON value (what the store and request bodies hold: plain objects, arrays,
 * strings, numbers, booleans, null). Every update copies the object it read once or twice, and
 * structuredClone, which handles every value the structured-clone algorithm knows, cost ~8 times
 * as much on a node. Fields set to undefined are kept, as structuredClone keeps them.
 */
export function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i] as unknown);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = copyJson((value as Record<string, unknown>)[key]);
    // JSON.parse makes "__proto__" an own field; assigning it would set the copy's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: field, enumerable: true, writable: true, configurable: true });
    else out[key] = field;
  }
  return out as T;
}
