import type { ConfigMap, Namespace, ServiceAccount } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { core, type ResourceRef } from '../../../kube/resource-path';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';
import type { InformerLike } from '../../../kube/shared-informers';

/** The ConfigMap every namespace gets so that pods can verify the API server's certificate. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const DEFAULT_SERVICE_ACCOUNT = 'default';

/**
 * Keeps, in every active namespace, a `default` ServiceAccount and the `kube-root-ca.crt`
 * ConfigMap holding the cluster CA, as Kubernetes' serviceaccount and root-ca-cert-publisher
 * controllers do: both are made when the namespace appears, put back when deleted, and the
 * ConfigMap's certificate is restored when someone edits it.
 */
export class ServiceAccountController extends QueueController {
  readonly name = 'service-account-controller';
  private readonly namespaces: InformerLike<Namespace>;
  private readonly accounts: InformerLike<ServiceAccount>;
  private readonly configMaps: InformerLike<ConfigMap>;

  constructor(
    ctx: ControllerContext,
    /** The cluster CA (PEM) published as ca.crt. */
    private readonly rootCaPem: string,
  ) {
    super(ctx, { workers: 2, failure: 'service account sync failed', keyField: 'namespace', baseDelayMs: 200, maxDelayMs: 10_000 });
    this.namespaces = ctx.informers.get<Namespace>(core('namespaces'));
    this.accounts = ctx.informers.get<ServiceAccount>(core('serviceaccounts'));
    this.configMaps = ctx.informers.get<ConfigMap>(core('configmaps'));
    this.namespaces.on((type, ns) => {
      if (type !== 'DELETED') this.queue.add(ns.metadata?.name ?? '');
    });
    // Only what this controller keeps: a deletion or an edit of another object is no reason to look.
    this.accounts.on((type, sa) => {
      if (type === 'DELETED' && sa.metadata?.name === DEFAULT_SERVICE_ACCOUNT) this.queue.add(sa.metadata.namespace ?? '');
    });
    this.configMaps.on((type, cm) => {
      if (cm.metadata?.name === ROOT_CA_CONFIGMAP && (type === 'DELETED' || cm.data?.['ca.crt'] !== this.rootCaPem)) this.queue.add(cm.metadata.namespace ?? '');
    });
  }


  protected async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    // A terminating namespace refuses new content; the namespace controller empties it.
    if (!ns || ns.metadata?.deletionTimestamp) return;
    if (!this.accounts.get(`${namespace}/${DEFAULT_SERVICE_ACCOUNT}`)) {
      await this.createIgnoringExists(core('serviceaccounts', namespace), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } });
    }
    const cm = this.configMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const wanted = this.rootCaConfigMap(namespace);
    if (!cm) {
      await this.createIgnoringExists(core('configmaps', namespace), wanted);
    } else if (cm.data?.['ca.crt'] !== this.rootCaPem) {
      await this.ctx.client.update(core('configmaps', namespace, ROOT_CA_CONFIGMAP), { ...cm, data: wanted.data } as ConfigMap);
    }
  }

  private rootCaConfigMap(namespace: string): ConfigMap {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { 'kubernetes.io/description': 'The certificate authority that signs the API server certificate; pods use it to verify the connection to the API.' } },
      data: { 'ca.crt': this.rootCaPem },
    };
  }

  private async createIgnoringExists(ref: ResourceRef, body: ServiceAccount | ConfigMap): Promise<void> {
    try {
      await this.ctx.client.create(ref, body);
    } catch (err) {
      // The informer lags the store: someone (or this controller a moment ago) made it already.
      if (!ApiError.isAlreadyExists(err)) throw err;
    }
  }
}
