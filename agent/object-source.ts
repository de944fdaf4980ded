import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret, Service } from 'kubernetes-types/core/v1';
import { ApiError } from '../kube/api-error';
import type { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { ObjectWatches } from './object-watches';
import { ServiceAccountTokens } from './service-account-tokens';

/** The agent's cache of every Service, started on first use and shared by the node's readers. */
export interface ServiceCache {
  /** Resolves once the first list is in memory; starts the cache when it is not running. */
  start(): Promise<void>;
  list(): Service[];
}

export interface ObjectSourceOptions {
  services: ServiceCache;
  /** Idle expiry of a ConfigMap's or Secret's watch (see ObjectWatches). */
  watchIdleMs?: number;
  log?: (message: string) => void;
}

/**
 * Reads what pods refer to: ConfigMaps and Secrets through one watch per object, the Services of
 * a namespace (for the service environment variables) from the agent's Service cache, so a pod
 * start or resync asks the master nothing once they are in memory; and the pods' ServiceAccount
 * tokens.
 */
export class ObjectSource {
  readonly tokens: ServiceAccountTokens;
  readonly watches: ObjectWatches;

  constructor(private readonly client: KubeClient, private readonly o: ObjectSourceOptions) {
    this.tokens = new ServiceAccountTokens(client);
    this.watches = new ObjectWatches(client, { idleMs: o.watchIdleMs, log: o.log });
  }

  async services(namespace: string): Promise<Service[]> {
    await synced(this.o.services, namespace);
    return this.o.services.list().filter((s) => s.metadata?.namespace === namespace);
  }

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.watches.read('configmaps', namespace, name) as Promise<ConfigMap | undefined>;
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.watches.read('secrets', namespace, name) as Promise<Secret | undefined>;
  }

  stop(): void {
    this.watches.stop();
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
}

/** Waits for the Service cache, but not forever: a pod whose sync fails is retried, a hung one is not. */
async function synced(services: ServiceCache, namespace: string, timeoutMs = 30_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the agent's Service cache has not listed Services within ${timeoutMs / 1000} s: service environment variables of namespace ${namespace} are unknown`)), timeoutMs);
  });
  try {
    await Promise.race([services.start(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
