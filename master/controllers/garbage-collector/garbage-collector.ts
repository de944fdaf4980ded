import type { OwnerReference } from 'kubernetes-types/meta/v1';
import { ApiError } from '../../../kube/api-error';
import { resourceForKind } from '../../../kube/discovery';
import type { KubeObject } from '../../../kube/object';
import type { ResourceRef } from '../../../kube/resource-path';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';
import type { InformerLike } from '../../../kube/shared-informers';
import { deleteObject } from '../delete-object';

interface Kind {
  ref: ResourceRef;
  kind: string;
  apiVersion: string;
  namespaced: boolean;
}

/** The kinds whose ownerReferences are honoured (what the master serves and controllers create). */
export const GC_KINDS: Kind[] = [
  { ref: { group: '', version: 'v1', resource: 'pods' }, kind: 'Pod', apiVersion: 'v1', namespaced: true },
  { ref: { group: '', version: 'v1', resource: 'services' }, kind: 'Service', apiVersion: 'v1', namespaced: true },
  { ref: { group: '', version: 'v1', resource: 'configmaps' }, kind: 'ConfigMap', apiVersion: 'v1', namespaced: true },
  { ref: { group: '', version: 'v1', resource: 'secrets' }, kind: 'Secret', apiVersion: 'v1', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'replicasets' }, kind: 'ReplicaSet', apiVersion: 'apps/v1', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'deployments' }, kind: 'Deployment', apiVersion: 'apps/v1', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'daemonsets' }, kind: 'DaemonSet', apiVersion: 'apps/v1', namespaced: true },
  { ref: { group: '', version: 'v1', resource: 'replicationcontrollers' }, kind: 'ReplicationController', apiVersion: 'v1', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'statefulsets' }, kind: 'StatefulSet', apiVersion: 'apps/v1', namespaced: true },
  { ref: { group: 'apps', version: 'v1', resource: 'controllerrevisions' }, kind: 'ControllerRevision', apiVersion: 'apps/v1', namespaced: true },
  { ref: { group: 'batch', version: 'v1', resource: 'jobs' }, kind: 'Job', apiVersion: 'batch/v1', namespaced: true },
  { ref: { group: 'batch', version: 'v1', resource: 'cronjobs' }, kind: 'CronJob', apiVersion: 'batch/v1', namespaced: true },
  { ref: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', namespaced: true },
];

/** Kinds an owner may have that are looked up through the API when not watched. */
const OWNER_ONLY: Kind[] = [
  { ref: { group: '', version: 'v1', resource: 'nodes' }, kind: 'Node', apiVersion: 'v1', namespaced: false },
  { ref: { group: '', version: 'v1', resource: 'namespaces' }, kind: 'Namespace', apiVersion: 'v1', namespaced: false },
];

interface GraphNode {
  kind: Kind;
  obj: KubeObject;
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

/** How often dependents of owners the collector does not watch (custom resources) are looked at again. */
const UNWATCHED_OWNER_RECHECK_MS = 10_000;

export type OwnerState = 'present' | 'absent' | 'unknown';

/** What to do with a dependent given the state of each of its owners. */
export function dependentAction(owners: { ref: OwnerReference; state: OwnerState }[]): { action: 'keep' } | { action: 'delete' } | { action: 'drop-refs'; uids: string[] } {
  if (owners.length === 0 || owners.some((o) => o.state === 'unknown')) return { action: 'keep' };
  const absent = owners.filter((o) => o.state === 'absent');
  if (absent.length === 0) return { action: 'keep' };
  if (absent.length === owners.length) return { action: 'delete' };
  return { action: 'drop-refs', uids: absent.map((o) => o.ref.uid) };
}

/**
 * Deletes objects whose owners are gone (background), deletes dependents before their owner
 * when it carries the foregroundDeletion finalizer, and strips the owner reference from
 * dependents when it carries the orphan finalizer. A missing owner is confirmed with a live GET
 * before anything is deleted, because informers of different kinds lag each other.
 */
export class GarbageCollector extends QueueController {
  readonly name = 'garbage-collector';
  private readonly graph = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, Set<string>>();
  private recheck: NodeJS.Timeout | undefined;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 4, failure: 'garbage collection failed', keyField: 'item' });
    for (const kind of GC_KINDS) {
      const informer: InformerLike<KubeObject> = ctx.informers.get<KubeObject>(kind.ref);
      informer.on((type, obj, old) => this.observe(kind, type, obj, old));
    }
  }

  override start(): void {
    super.start();
    // Catch what was orphaned while no controller manager ran.
    for (const uid of this.graph.keys()) this.queue.add(`dependent:${uid}`);
    // No delete event tells of an owner of a kind not watched here (an operator's custom resource
    // owning its Deployment): its dependents are looked at again now and then.
    this.recheck = setInterval(() => this.recheckUnwatchedOwners(), UNWATCHED_OWNER_RECHECK_MS);
    this.recheck.unref();
  }

  override stop(): Promise<void> {
    clearInterval(this.recheck);
    return super.stop();
  }

  private recheckUnwatchedOwners(): void {
    for (const [uid, node] of this.graph) {
      const refs = node.obj.metadata?.ownerReferences ?? [];
      if (refs.some((r) => !this.graph.has(r.uid) && !this.watchedKind(r))) this.queue.add(`dependent:${uid}`);
    }
  }

  private watchedKind(ref: OwnerReference): Kind | undefined {
    return [...GC_KINDS, ...OWNER_ONLY].find((k) => k.kind === ref.kind && groupOf(k.apiVersion) === groupOf(ref.apiVersion));
  }

  private observe(kind: Kind, type: string, obj: KubeObject, old?: KubeObject): void {
    const uid = obj.metadata?.uid ?? '';
    for (const o of old?.metadata?.ownerReferences ?? []) this.dependents.get(o.uid)?.delete(uid);
    if (type === 'DELETED') {
      this.graph.delete(uid);
      // Owners waiting in foreground deletion may be done now; dependents may be orphans now.
      for (const o of obj.metadata?.ownerReferences ?? []) this.queue.add(`owner:${o.uid}`);
      for (const d of this.dependents.get(uid) ?? []) this.queue.add(`dependent:${d}`);
      return;
    }
    this.graph.set(uid, { kind, obj });
    for (const o of obj.metadata?.ownerReferences ?? []) {
      let set = this.dependents.get(o.uid);
      if (!set) this.dependents.set(o.uid, (set = new Set()));
      set.add(uid);
    }
    const refsChanged = JSON.stringify(old?.metadata?.ownerReferences) !== JSON.stringify(obj.metadata?.ownerReferences);
    if ((obj.metadata?.ownerReferences ?? []).length > 0 && (!old || refsChanged)) this.queue.add(`dependent:${uid}`);
    const fin = obj.metadata?.finalizers ?? [];
    if (obj.metadata?.deletionTimestamp && (fin.includes('orphan') || fin.includes('foregroundDeletion'))) this.queue.add(`owner:${uid}`);
  }

  protected async sync(item: string): Promise<void> {
    const [what, uid] = item.split(':');
    if (what === 'dependent') await this.processDependent(uid);
    else await this.processOwner(uid);
  }

  private async processDependent(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    const refs = node?.obj.metadata?.ownerReferences ?? [];
    if (!node || refs.length === 0) return;
    const owners = await Promise.all(refs.map(async (ref) => ({ ref, state: await this.ownerState(ref, node.obj.metadata?.namespace) })));
    const decision = dependentAction(owners);
    if (decision.action === 'delete') {
      if (node.obj.metadata?.deletionTimestamp) return;
      this.ctx.log('deleting object whose owners are gone', { kind: node.kind.kind, object: `${node.obj.metadata?.namespace}/${node.obj.metadata?.name}` });
      await this.delete(node, 'Background');
    } else if (decision.action === 'drop-refs') {
      await this.patchRefs(node, refs.filter((r) => !decision.uids.includes(r.uid)));
    }
  }

  private async ownerState(ref: OwnerReference, namespace: string | undefined): Promise<OwnerState> {
    if (this.graph.has(ref.uid)) return 'present';
    const watched = this.watchedKind(ref);
    // Any other kind (a custom resource) is found through discovery; one the server does not serve is unknown.
    const resource = watched ? { ...watched.ref, namespaced: watched.namespaced } : await resourceForKind(this.ctx.client, ref.apiVersion, ref.kind);
    if (!resource) return 'unknown';
    try {
      const live = await this.ctx.client.get({ group: resource.group, version: resource.version, resource: resource.resource, namespace: resource.namespaced ? namespace : undefined, name: ref.name });
      return live.metadata?.uid === ref.uid ? 'present' : 'absent';
    } catch (err) {
      if (ApiError.isNotFound(err)) return 'absent';
      throw err;
    }
  }

  private async processOwner(uid: string): Promise<void> {
    const owner = this.graph.get(uid);
    if (!owner?.obj.metadata?.deletionTimestamp) return;
    const fin = owner.obj.metadata.finalizers ?? [];
    const deps = [...(this.dependents.get(uid) ?? [])].map((d) => this.graph.get(d)).filter((d): d is GraphNode => d !== undefined);
    if (fin.includes('orphan')) {
      for (const d of deps) await this.patchRefs(d, (d.obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid));
      await this.removeFinalizer(owner, 'orphan');
      return;
    }
    if (fin.includes('foregroundDeletion')) {
      const blocking = deps.filter((d) => d.obj.metadata?.ownerReferences?.some((r) => r.uid === uid));
      for (const d of blocking) {
        if (d.obj.metadata?.deletionTimestamp) continue;
        // Only dependents with dependents of their own need to wait for them (foreground) too.
        const hasOwn = (this.dependents.get(d.obj.metadata?.uid ?? '')?.size ?? 0) > 0;
        await this.delete(d, hasOwn ? 'Foreground' : 'Background');
      }
      if (blocking.length === 0) await this.removeFinalizer(owner, 'foregroundDeletion');
    }
  }

  private async delete(node: GraphNode, propagationPolicy: 'Background' | 'Foreground'): Promise<void> {
    const m = node.obj.metadata;
    try {
      await deleteObject(this.ctx.client, { ...node.kind.ref, namespace: m?.namespace, name: m?.name }, { propagationPolicy, preconditions: { uid: m?.uid } });
    } catch (err) {
      if (!ApiError.isNotFound(err) && !ApiError.isConflict(err)) throw err;
    }
  }

  private async patchRefs(node: GraphNode, refs: OwnerReference[]): Promise<void> {
    const m = node.obj.metadata;
    try {
      await this.ctx.client.patch({ ...node.kind.ref, namespace: m?.namespace, name: m?.name }, 'merge', { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: m?.resourceVersion } });
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
  }

  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const m = node.obj.metadata;
    const rest = (m?.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await this.ctx.client.patch({ ...node.kind.ref, namespace: m?.namespace, name: m?.name }, 'merge', { metadata: { finalizers: rest.length ? rest : null, resourceVersion: m?.resourceVersion } });
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
  }
}
