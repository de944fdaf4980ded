import type { Obj } from './registry';

/** Encoded lines per source object, then per event type and apiVersion. */
const lines = new WeakMap<object, Map<string, string>>();

/**
 * The JSON line of a watch event. Every watcher of a prefix receives the same store event object
 * (the store's fan-out parses each change once), so the line is serialized once per event type and
 * apiVersion and the bytes shared by every watcher that sends it, as kube-apiserver's watch cache
 * does: a change costs one JSON.stringify, not one per watcher. The cache lives as long as the
 * event object, so nothing outlives delivery.
 */
export function watchEventLine(type: string, object: Obj): string {
  const key = `${type}\u0000${String(object.apiVersion)}`;
  let byKey = lines.get(object);
  const cached = byKey?.get(key);
  if (cached !== undefined) return cached;
  const line = JSON.stringify({ type, object }) + '\n';
  if (!byKey) lines.set(object, (byKey = new Map()));
  byKey.set(key, line);
  return line;
}
