import { DEFAULT_STORAGE_CLASS_ANNOTATION, LOCAL_PATH_PROVISIONER, LOCAL_PATH_STORAGE_CLASS } from '../../kube/local-path';
import type { Obj, Registry } from './registry';
import { resources, type ResourceInfo } from './resources';
import { HttpError } from './status';

const storageClasses = resources.find((r) => r.plural === 'storageclasses') as ResourceInfo;

/**
 * Creates the `local-path` StorageClass, marked default, unless it exists (an edited one is
 * kept): claims get a directory on the node their first pod runs on, as k3s ships it.
 */
export async function ensureDefaultStorageClass(registry: Registry): Promise<void> {
  if (await registry.find(storageClasses, undefined, LOCAL_PATH_STORAGE_CLASS)) return;
  try {
    await registry.create(storageClasses, undefined, {
      metadata: { name: LOCAL_PATH_STORAGE_CLASS, annotations: { [DEFAULT_STORAGE_CLASS_ANNOTATION]: 'true' } },
      provisioner: LOCAL_PATH_PROVISIONER,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: false,
    });
  } catch (err) {
    if (!(err instanceof HttpError && err.code === 409)) throw err;
  }
}

/**
 * Kubernetes' DefaultStorageClass admission: a new claim that names no class (spec.storageClassName
 * absent, not "") gets the default one, when exactly one class is marked default.
 */
export async function defaultStorageClass(registry: Registry, claim: Obj): Promise<void> {
  const spec = (claim.spec ??= {}) as { storageClassName?: string | null };
  if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
  const { items } = await registry.list(storageClasses, undefined);
  const defaults = items.filter((c) => c.metadata?.annotations?.[DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true');
  if (defaults.length === 1) spec.storageClassName = String(defaults[0].metadata?.name);
}
