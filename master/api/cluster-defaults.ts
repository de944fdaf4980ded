import type { Obj, Registry } from './registry';
import type { ResourceInfo } from './resources';
import { HttpError } from './status';

/**
 * Creates an object the cluster starts with unless one of that name exists (an edited one is
 * kept, and a concurrent master creating it too is fine).
 */
export async function ensureObject(registry: Registry, r: ResourceInfo, obj: Obj): Promise<void> {
  if (await registry.find(r, undefined, String(obj.metadata?.name))) return;
  try {
    await registry.create(r, undefined, obj);
  } catch (err) {
    if (!(err instanceof HttpError && err.code === 409)) throw err;
  }
}

/**
 * The class marked default by `annotation` (IngressClass, StorageClass), when exactly one is, as
 * Kubernetes' DefaultIngressClass and DefaultStorageClass admission plugins pick it.
 */
export async function defaultClassName(registry: Registry, r: ResourceInfo, annotation: string): Promise<string | undefined> {
  const { items } = await registry.list(r, undefined);
  const defaults = items.filter((c) => c.metadata?.annotations?.[annotation] === 'true');
  return defaults.length === 1 ? String(defaults[0].metadata?.name) : undefined;
}
