import type { Namespace } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import type { KubeObject } from '../../../kube/object';
import { core, type ResourceRef } from '../../../kube/resource-path';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';
import type { InformerLike } from '../../../kube/shared-informers';
import { deleteObject } from '../delete-object';
import { deletableNamespacedResources } from '../../../kube/discovery';

/**
 * Namespaced resources emptied first, in this order: workloads before pods so they do not
 * recreate them. Every other namespaced resource the server lists in discovery follows.
 */
export const NAMESPACED_RESOURCES: ResourceRef[] = [
  { group: 'apps', version: 'v1', resource: 'deployments' },
  { group: 'apps', version: 'v1', resource: 'daemonsets' },
  { group: 'apps', version: 'v1', resource: 'replicasets' },
  { group: '', version: 'v1', resource: 'pods' },
  { group: '', version: 'v1', resource: 'services' },
  { group: '', version: 'v1', resource: 'endpoints' },
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  { group: '', version: 'v1', resource: 'configmaps' },
  { group: '', version: 'v1', resource: 'secrets' },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  { group: '', version: 'v1', resource: 'events' },
];

/**
 * Empties a terminating namespace, then clears its `kubernetes` finalizer through the finalize
 * subresource so the API server removes it. Pods take as long as their agents need to stop them,
 * so the namespace is looked at again every second until it is empty.
 */
export class NamespaceController extends QueueController {
  readonly name = 'namespace-controller';
  private readonly namespaces: InformerLike<Namespace>;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'namespace cleanup failed', keyField: 'namespace', baseDelayMs: 500, maxDelayMs: 5000 });
    this.namespaces = ctx.informers.get<Namespace>(core('namespaces'));
    this.namespaces.on((type, ns) => {
      if (type !== 'DELETED' && ns.metadata?.deletionTimestamp) this.queue.add(ns.metadata.name ?? '');
    });
  }


  protected async sync(name: string): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns?.metadata?.deletionTimestamp) return;
    let remaining = 0;
    for (const ref of await this.resources()) remaining += await this.deleteAll({ ...ref, namespace: name });
    if (remaining > 0) {
      this.queue.addAfter(name, 1000);
      return;
    }
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== 'kubernetes');
    if (finalizers.length === (ns.spec?.finalizers ?? []).length) return;
    try {
      await this.ctx.client.update(core('namespaces', undefined, name, 'finalize'), { ...ns, spec: { ...ns.spec, finalizers } } as Namespace);
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
  }

  /** The ordered list, then what discovery adds (ServiceAccounts, Roles, RoleBindings, ...). */
  private async resources(): Promise<ResourceRef[]> {
    const first = new Set(NAMESPACED_RESOURCES.map((r) => `${r.group}/${r.resource}`));
    const discovered = await deletableNamespacedResources(this.ctx.client);
    return [...NAMESPACED_RESOURCES, ...discovered.filter((r) => !first.has(`${r.group}/${r.resource}`))];
  }

  /** Deletes every object of one resource in the namespace; returns how many still exist. */
  private async deleteAll(ref: ResourceRef): Promise<number> {
    let items: KubeObject[];
    try {
      items = (await this.ctx.client.list(ref)).items;
    } catch (err) {
      // A resource this master does not serve holds nothing to delete.
      if (ApiError.isNotFound(err)) return 0;
      throw err;
    }
    for (const item of items) {
      if (item.metadata?.deletionTimestamp) continue;
      try {
        await deleteObject(this.ctx.client, { ...ref, name: item.metadata?.name }, { propagationPolicy: 'Background' });
      } catch (err) {
        if (!ApiError.isNotFound(err)) throw err;
      }
    }
    return items.length;
  }
}
