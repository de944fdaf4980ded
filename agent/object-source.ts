import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret, Service } from 'kubernetes-types/core/v1';
import { ApiError } from '../kube/api-error';
import type { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { ServiceAccountTokens } from './service-account-tokens';

/**
 * Reads what pods refer to: ConfigMaps and Secrets, the Services of a namespace (for the
 * service environment variables), with a short cache so a sync burst asks once; and the pods'
 * ServiceAccount tokens.
 */
export class ObjectSource {
  private readonly cache = new Map<string, { at: number; value: ConfigMap | Secret | undefined }>();
  private readonly serviceCache = new Map<string, { at: number; value: Service[] }>();
  readonly tokens: ServiceAccountTokens;

  constructor(private readonly client: KubeClient, private readonly ttlMs = 5_000) {
    this.tokens = new ServiceAccountTokens(client);
  }

  async services(namespace: string): Promise<Service[]> {
    const hit = this.serviceCache.get(namespace);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const value = (await this.client.list<Service>(core('services', namespace))).items;
    this.serviceCache.set(namespace, { at: Date.now(), value });
    return value;
  }

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.fetch('configmaps', namespace, name) as Promise<ConfigMap | undefined>;
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.fetch('secrets', namespace, name) as Promise<Secret | undefined>;
  }

  /** Claims and volumes are read fresh: a claim is bound while its pod waits for it. */
  async claim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return this.client.get<PersistentVolumeClaim>(core('persistentvolumeclaims', namespace, name)).catch((err: unknown) => {
      if (ApiError.isNotFound(err)) return undefined;
      throw err;
    });
  }

  async volume(name: string): Promise<PersistentVolume | undefined> {
    return this.client.get<PersistentVolume>(core('persistentvolumes', undefined, name)).catch((err: unknown) => {
      if (ApiError.isNotFound(err)) return undefined;
      throw err;
    });
  }

  private async fetch(resource: string, namespace: string, name: string): Promise<ConfigMap | Secret | undefined> {
    const key = `${resource}/${namespace}/${name}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    let value: ConfigMap | Secret | undefined;
    try {
      value = await this.client.get<ConfigMap | Secret>(core(resource, namespace, name));
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }
}
