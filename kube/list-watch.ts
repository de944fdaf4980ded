import type { KubeList, KubeObject, WatchEvent } from './object';
import type { ListQuery, WatchHandle, WatchQuery } from './client';
import type { ResourceRef } from './resource-path';

/**
 * Where an informer reads a resource from (client-go's ListerWatcher): a KubeClient over HTTPS,
 * or, inside the master, the API's store itself. A watch ends with a 410 ApiError passed to
 * onError when its resourceVersion is too old, and the informer lists again.
 */
export interface ListWatch {
  list<T extends KubeObject = KubeObject>(ref: ResourceRef, query?: ListQuery): Promise<KubeList<T>>;
  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, query: WatchQuery, onEvent: (event: WatchEvent<T>) => void, onError?: (err: Error) => void): WatchHandle;
}
