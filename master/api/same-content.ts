/**
 * Equal as the apiserver's typed objects compare: key order does not matter and a null field is
 * an absent one (kubectl sends `creationTimestamp: null` in pod templates it read back).
 */
export function sameContent(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with sorted keys and without null fields (a text compare also holds across realms, as in jest's VM). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const fields = Object.entries(v).filter(([, x]) => x !== null && x !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${fields.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
}
