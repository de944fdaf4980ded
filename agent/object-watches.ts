import type { ConfigMap, Secret } from 'kubernetes-types/core/v1';
import { ApiError } from '../kube/api-error';
import type { KubeClient } from '../kube/client';
import { Informer } from '../kube/informer';
import { core } from '../kube/resource-path';

export type WatchedResource = 'configmaps' | 'secrets';
export type WatchedObject = ConfigMap | Secret;

export interface ObjectWatchesOptions {
  /**
   * Stop an object's watch when no read came for this long (default 5 min). The kubelet drops
   * the watch when the last pod referring to the object is unregistered; here every pod of the
   * node re-reads its objects at each resync (30 s), so an idle expiry of several resyncs finds
   * the same moment without the pod workers telling this cache which pods come and go.
   */
  idleMs?: number;
  /** Cache of the direct GETs made when an object cannot be watched (default 5 s). */
  fallbackTtlMs?: number;
  log?: (message: string) => void;
}

interface Watch {
  informer: Informer<WatchedObject>;
  /** Resolves true once the first list is in memory, false when it failed (then reads GET). */
  ready: Promise<boolean>;
  lastRead: number;
}

/**
 * The ConfigMaps and Secrets the node's pods refer to, each read through a watch of that one
 * object (list+watch with fieldSelector=metadata.name=NAME), as the kubelet's Watch change
 * detection strategy does: a pod resync reads memory instead of asking the master, and an
 * update reaches the next read as soon as the watch delivers it. One watch serves every pod of
 * the node that refers to the object. An object the node may not watch (a master that refuses
 * list/watch by name) is read with a GET, cached for a few seconds, as before watches.
 */
export class ObjectWatches {
  private readonly watches = new Map<string, Watch>();
  private readonly direct = new Map<string, { at: number; value: WatchedObject | undefined }>();
  /**
   * Objects whose watch failed to start → when to try watching again (after idleMs, so a master
   * that was down at the first read does not leave the object on GETs for good); read by GET until then.
   */
  private readonly unwatchable = new Map<string, number>();
  /** Objects whose failed watch was logged: once each, however often it is retried. */
  private readonly reported = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;

  constructor(private readonly client: KubeClient, private readonly o: ObjectWatchesOptions = {}) {
    this.idleMs = o.idleMs ?? 300_000;
    this.sweeper = setInterval(() => this.stopIdle(), Math.max(10, Math.min(this.idleMs, 60_000)));
    this.sweeper.unref();
  }

  async read(resource: WatchedResource, namespace: string, name: string): Promise<WatchedObject | undefined> {
    const key = `${resource}/${namespace}/${name}`;
    if ((this.unwatchable.get(key) ?? 0) > Date.now()) return this.get(key, resource, namespace, name);
    const watch = this.watches.get(key) ?? this.startWatch(key, resource, namespace, name);
    watch.lastRead = Date.now();
    if (!(await watch.ready)) return this.get(key, resource, namespace, name);
    return watch.informer.get(`${namespace}/${name}`);
  }

  /** How many objects are watched now (for tests and diagnostics). */
  get size(): number {
    return this.watches.size;
  }

  stop(): void {
    clearInterval(this.sweeper);
    for (const watch of this.watches.values()) watch.informer.stop();
    this.watches.clear();
  }

  private startWatch(key: string, resource: WatchedResource, namespace: string, name: string): Watch {
    let failed: (err: Error) => void = () => undefined;
    const informer = new Informer<WatchedObject>(this.client, core(resource, namespace), {
      query: { fieldSelector: `metadata.name=${name}` },
      onError: (err) => failed(err),
    });
    const ready = new Promise<boolean>((resolve) => {
      failed = (err) => {
        if (informer.hasSynced()) return this.o.log?.(`watch of ${resource} ${namespace}/${name}: ${err.message} (serving the last copy; re-watching)`);
        informer.stop();
        this.watches.delete(key);
        this.unwatchable.set(key, Date.now() + this.idleMs);
        if (!this.reported.has(key)) this.o.log?.(`cannot watch ${resource} ${namespace}/${name} (${err.message}); reading it with GETs, and trying the watch again in ${Math.round(this.idleMs / 1000)} s`);
        this.reported.add(key);
        resolve(false);
      };
      informer.start().then(() => resolve(true), () => resolve(false));
    });
    const watch: Watch = { informer, ready, lastRead: Date.now() };
    this.watches.set(key, watch);
    return watch;
  }

  private stopIdle(): void {
    const now = Date.now();
    for (const [key, watch] of this.watches) {
      if (now - watch.lastRead < this.idleMs) continue;
      watch.informer.stop();
      this.watches.delete(key);
    }
    for (const [key, hit] of this.direct) if (now - hit.at >= this.idleMs) this.direct.delete(key);
    for (const [key, until] of this.unwatchable) if (until <= now) this.unwatchable.delete(key);
  }

  private async get(key: string, resource: WatchedResource, namespace: string, name: string): Promise<WatchedObject | undefined> {
    const hit = this.direct.get(key);
    if (hit && Date.now() - hit.at < (this.o.fallbackTtlMs ?? 5_000)) return hit.value;
    let value: WatchedObject | undefined;
    try {
      value = await this.client.get<WatchedObject>(core(resource, namespace, name));
    } catch (err) {
      if (!ApiError.isNotFound(err)) throw err;
    }
    this.direct.set(key, { at: Date.now(), value });
    return value;
  }
}
