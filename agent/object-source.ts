import type { ConfigMap, Secret } from 'kubernetes-types/core/v1';
import { ApiError } from '../kube/api-error';
import type { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';

/** Reads the ConfigMaps and Secrets that pods reference, with a short cache so a sync burst asks once. */
export class ObjectSource {
  private readonly cache = new Map<string, { at: number; value: ConfigMap | Secret | undefined }>();

  constructor(private readonly client: KubeClient, private readonly ttlMs = 5_000) {}

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.fetch('configmaps', namespace, name) as Promise<ConfigMap | undefined>;
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.fetch('secrets', namespace, name) as Promise<Secret | undefined>;
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
