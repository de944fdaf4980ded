import { DEFAULT_STORAGE_CLASS_ANNOTATION, LOCAL_PATH_PROVISIONER, LOCAL_PATH_STORAGE_CLASS } from '../../kube/local-path';
import { defaultClassName, ensureObject } from './cluster-defaults';
import type { Obj, Registry } from './registry';
import { resources, type ResourceInfo } from './resources';

const storageClasses = resources.find((r) => r.plural === 'storageclasses') as ResourceInfo;

/**
 * The `local-path` StorageClass, marked default: claims get a directory on the node their first
 * pod runs on, as k3s ships it.
 */
export function ensureDefaultStorageClass(registry: Registry): Promise<void> {
  return ensureObject(registry, storageClasses, {
    metadata: { name: LOCAL_PATH_STORAGE_CLASS, annotations: { [DEFAULT_STORAGE_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: false,
  });
}

/** DefaultStorageClass admission: a new claim that names no class (absent, not "") gets the default one. */
export async function defaultStorageClass(registry: Registry, claim: Obj): Promise<void> {
  const spec = (claim.spec ??= {}) as { storageClassName?: string | null };
  if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
  const name = await defaultClassName(registry, storageClasses, DEFAULT_STORAGE_CLASS_ANNOTATION);
  if (name) spec.storageClassName = name;
}
