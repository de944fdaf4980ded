import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1';
import type { StorageClass } from 'kubernetes-types/storage/v1';
import { ApiError } from '../../../kube/api-error';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import { LOCAL_PATH_PROVISIONER, LOCAL_PATH_ROOT } from '../../../kube/local-path';
import { objectKey } from '../../../kube/object';
import { core, type ResourceRef } from '../../../kube/resource-path';
import type { InformerLike } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { deleteObject } from '../delete-object';
import { QueueController } from '../queue-controller';

const storageClassesRef: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

/**
 * The built-in local-path provisioner (as k3s ships one): a claim of a class whose provisioner is
 * lotse.dev/local-path is bound once its first pod is scheduled (WaitForFirstConsumer) to a new
 * PersistentVolume, a directory on that pod's node (LOCAL_PATH_ROOT/pvc-UID, made by the agent
 * when it mounts it), pinned to the node by node affinity so the scheduler sends every later pod
 * of the claim there. A volume whose claim is gone is Released, and deleted under the Delete
 * reclaim policy; the node's agent then removes the directory.
 */
export class LocalPathProvisioner extends QueueController {
  readonly name = 'local-path-provisioner';
  private readonly pods: InformerLike<Pod>;
  private readonly claims: InformerLike<PersistentVolumeClaim>;
  private readonly volumes: InformerLike<PersistentVolume>;
  private readonly classes: InformerLike<StorageClass>;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'local-path provisioning failed', keyField: 'item', baseDelayMs: 200, maxDelayMs: 10_000 });
    this.pods = ctx.informers.get<Pod>(core('pods'));
    this.claims = ctx.informers.get<PersistentVolumeClaim>(core('persistentvolumeclaims'));
    this.volumes = ctx.informers.get<PersistentVolume>(core('persistentvolumes'));
    this.classes = ctx.informers.get<StorageClass>(storageClassesRef);
    this.recorder = ctx.recorder(this.name);
    this.pods.on((_type, pod) => {
      if (!pod.spec?.nodeName) return;
      for (const v of pod.spec.volumes ?? []) if (v.persistentVolumeClaim) this.queue.add(`claim:${pod.metadata?.namespace}/${v.persistentVolumeClaim.claimName}`);
    });
    this.claims.on((type, claim) => {
      this.queue.add(`claim:${objectKey(claim)}`);
      if (type === 'DELETED' && claim.spec?.volumeName) this.queue.add(`volume:${claim.spec.volumeName}`);
    });
    this.volumes.on((_type, pv) => this.queue.add(`volume:${pv.metadata?.name}`));
  }

  protected async sync(item: string): Promise<void> {
    const [what, key] = [item.slice(0, item.indexOf(':')), item.slice(item.indexOf(':') + 1)];
    if (what === 'claim') await this.provision(key);
    else await this.reclaim(key);
  }

  private ours(className: string | undefined | null): StorageClass | undefined {
    const sc = className ? this.classes.get(className) : undefined;
    return sc?.provisioner === LOCAL_PATH_PROVISIONER ? sc : undefined;
  }

  private async provision(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim || claim.metadata?.deletionTimestamp || claim.spec?.volumeName) return;
    const sc = this.ours(claim.spec?.storageClassName);
    if (!sc) return;
    const [ns, name] = key.split('/');
    const consumer = this.pods.list().find((p) => p.metadata?.namespace === ns && p.spec?.nodeName && (p.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name));
    if (!consumer?.spec?.nodeName) return;
    const node = consumer.spec.nodeName;
    const uid = claim.metadata?.uid ?? '';
    const pvName = `pvc-${uid}`;
    const pv: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': LOCAL_PATH_PROVISIONER } },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
        accessModes: claim.spec?.accessModes?.length ? claim.spec.accessModes : ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata?.name,
        volumeMode: 'Filesystem',
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name, uid },
        local: { path: `${LOCAL_PATH_ROOT}/${pvName}` },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
      },
    };
    try {
      await this.ctx.client.create(core('persistentvolumes'), pv);
    } catch (err) {
      if (!ApiError.isAlreadyExists(err)) throw err;
    }
    await this.ctx.client.patch(core('persistentvolumes', undefined, pvName, 'status'), 'merge', { status: { phase: 'Bound' } });
    await this.ctx.client.patch(core('persistentvolumeclaims', ns, name), 'merge', {
      metadata: { annotations: { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes', 'volume.kubernetes.io/selected-node': node, 'volume.kubernetes.io/storage-provisioner': LOCAL_PATH_PROVISIONER } },
      spec: { volumeName: pvName },
    });
    await this.ctx.client.patch(core('persistentvolumeclaims', ns, name, 'status'), 'merge', { status: { phase: 'Bound', accessModes: pv.spec?.accessModes, capacity: pv.spec?.capacity } });
    this.recorder.record(objectRef(claim, 'PersistentVolumeClaim', 'v1'), 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName} on node ${node}`);
  }

  private async reclaim(name: string): Promise<void> {
    const pv = this.volumes.get(name);
    if (!pv || pv.metadata?.deletionTimestamp || pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== LOCAL_PATH_PROVISIONER) return;
    const ref = pv.spec?.claimRef;
    const claim = ref ? this.claims.get(`${ref.namespace}/${ref.name}`) : undefined;
    if (claim && claim.metadata?.uid === ref?.uid) return;
    // The informer may lag a new claim: ask the API before letting the volume go.
    if (ref) {
      const live = await this.ctx.client.get<PersistentVolumeClaim>(core('persistentvolumeclaims', ref.namespace, ref.name)).catch((err: unknown) => {
        if (ApiError.isNotFound(err)) return undefined;
        throw err;
      });
      if (live && live.metadata?.uid === ref.uid) return;
    }
    if ((pv.spec?.persistentVolumeReclaimPolicy ?? 'Delete') === 'Delete') {
      await deleteObject(this.ctx.client, core('persistentvolumes', undefined, name)).catch((err: unknown) => {
        if (!ApiError.isNotFound(err)) throw err;
      });
    } else if (pv.status?.phase !== 'Released') {
      await this.ctx.client.patch(core('persistentvolumes', undefined, name, 'status'), 'merge', { status: { phase: 'Released' } });
    }
  }
}
