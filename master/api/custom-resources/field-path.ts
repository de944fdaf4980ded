/** Reads and writes a simple dotted path (".spec.replicas"), as the scale subresource's paths are. */
export function readPath(obj: unknown, path: string): unknown {
  let at: unknown = obj;
  for (const key of segments(path)) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

export function writePath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = segments(path);
  let at = obj;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]] = value;
}

function segments(path: string): string[] {
  return path.split('.').filter((s) => s.length > 0);
}
