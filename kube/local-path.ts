/** The StorageClass the master creates, default for claims that name none. */
export const LOCAL_PATH_STORAGE_CLASS = 'local-path';
/** Its provisioner: the master's local-path controller binds claims, the agents mount and clean up. */
export const LOCAL_PATH_PROVISIONER = 'lotse.dev/local-path';
/** Marks the class a claim without one gets, as Kubernetes names it. */
export const DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** Where a node keeps local-path volumes: one directory per PersistentVolume, named after it. */
export const LOCAL_PATH_ROOT = '/var/lib/lotse/volumes';
