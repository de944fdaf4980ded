/**
 * A set of keys that is, most of the time, empty or one key: a watch of one object by name (an
 * agent's ConfigMap or Secret, ~115,000 of them at 5,000 nodes) holds exactly one. A JavaScript
 * Set of one key costs ~200 bytes of heap, the key alone nothing; a Set appears at the second key.
 * The functions return the new value, which the caller stores in place of the old.
 */
export type OneOrMany = string | Set<string> | undefined;

export function withKey(keys: OneOrMany, key: string): OneOrMany {
  if (keys === undefined || keys === key) return key;
  if (typeof keys === 'string') return new Set([keys, key]);
  keys.add(key);
  return keys;
}

export function withoutKey(keys: OneOrMany, key: string): OneOrMany {
  if (keys === undefined || typeof keys === 'string') return keys === key ? undefined : keys;
  keys.delete(key);
  return keys.size === 0 ? undefined : keys;
}

export function hasKey(keys: OneOrMany, key: string): boolean {
  return typeof keys === 'string' ? keys === key : keys?.has(key) ?? false;
}

export function keysOf(keys: OneOrMany): string[] {
  if (keys === undefined) return [];
  return typeof keys === 'string' ? [keys] : [...keys];
}
