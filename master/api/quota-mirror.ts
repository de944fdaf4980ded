import { PrefixMirror } from '../store/prefix-mirror';
import type { Store } from '../store/store';
import type { Obj } from './registry';

const prefix = '/registry/core/resourcequotas/';

/**
 * The ResourceQuotas of every namespace, listed once and then followed with the store watch, so
 * quota admission asks memory rather than the store on every create (as the apiserver's quota
 * admission reads an informer's lister). A quota written a moment ago may be missed by a create
 * racing it, as in Kubernetes.
 */
export class QuotaMirror extends PrefixMirror {
  private readonly byNamespace = new Map<string, Map<string, Obj>>();

  constructor(store: Store, onWatchError: (err: Error) => void) {
    super(store, prefix, onWatchError);
  }

  async inNamespace(namespace: string): Promise<Obj[]> {
    await this.ready();
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  protected clear(): void {
    this.byNamespace.clear();
  }

  protected put(key: string, value: Record<string, unknown> | undefined): void {
    const [namespace, name] = key.slice(prefix.length).split('/');
    let quotas = this.byNamespace.get(namespace);
    if (!value) {
      quotas?.delete(name);
      if (quotas?.size === 0) this.byNamespace.delete(namespace);
      return;
    }
    if (!quotas) this.byNamespace.set(namespace, (quotas = new Map()));
    quotas.set(name, value as Obj);
  }
}
