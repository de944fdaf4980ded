import { PrefixMirror } from '../store/prefix-mirror';
import type { Store } from '../store/store';
import { storeKey, type Obj } from './registry';
import type { ResourceInfo } from './resources';

/**
 * The objects of one resource, listed once and then followed with the store watch, for the
 * admission steps that read them on every create (ResourceQuotas, LimitRanges, PriorityClasses),
 * as the apiserver's admission plugins read informers' listers instead of the store. An object
 * written a moment ago may be missed by a create racing it, as in Kubernetes.
 */
export class ObjectMirror extends PrefixMirror {
  private readonly byNamespace = new Map<string, Map<string, Obj>>();
  private readonly keyPrefix: string;

  constructor(store: Store, private readonly resource: ResourceInfo, onWatchError: (err: Error) => void) {
    const prefix = storeKey(resource, undefined);
    super(store, prefix, onWatchError);
    this.keyPrefix = prefix;
  }

  /** The objects of a namespace (for a cluster-scoped resource: pass none). */
  async list(namespace = ''): Promise<Obj[]> {
    await this.ready();
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  protected clear(): void {
    this.byNamespace.clear();
  }

  protected put(key: string, value: Record<string, unknown> | undefined): void {
    const rest = key.slice(this.keyPrefix.length).split('/');
    const [namespace, name] = this.resource.namespaced ? rest : ['', rest[0]];
    let objects = this.byNamespace.get(namespace);
    if (!value) {
      objects?.delete(name);
      if (objects?.size === 0) this.byNamespace.delete(namespace);
      return;
    }
    if (!objects) this.byNamespace.set(namespace, (objects = new Map()));
    objects.set(name, value as Obj);
  }
}
