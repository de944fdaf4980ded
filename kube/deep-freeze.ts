/**
 * Freezes value and everything it holds, so a write into it throws (in strict mode code: the
 * compiled tree, class bodies) or is ignored, instead of changing an object others hold too.
 * A frozen part is taken as frozen throughout: objects freeze bottom-up here, so shared parts
 * are walked once.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
