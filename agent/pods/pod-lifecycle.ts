import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../../kube/client';
import { EventRecorder } from '../../kube/event-recorder';
import type { InformerHandler } from '../../kube/informer';
import { Backoff } from './backoff';
import { ObjectSource, type ServiceCache } from '../object-source';
import { Pleg } from './pleg';
import { PodSync } from './pod-sync';
import { PodWorkers } from './pod-workers';
import { ProbeManager } from '../probes/probe-manager';
import type { ContainerRuntime } from '../runtime/container-runtime';
import { StartFailures } from './start-failures';
import { StatusManager } from './status-manager';
import { traceBegin } from '../start-trace';
import { VolumeManager } from '../volumes/volume-manager';
import type { PodDnsConfig } from '../dns/pod-dns-config';

/**
 * A pod whose volumes failed to set up tries again after 2 s, then 4, 8... up to 32 s. The
 * kubelet's volume operations back off the same way up to 2 min 2 s; 32 s keeps a pod that waited
 * for a ConfigMap created late within half a minute of it, while an overloaded master gets a token
 * request per pod every half minute instead of every 2 s.
 */
export const MOUNT_BACKOFF_BASE_MS = 2_000;
export const MOUNT_BACKOFF_MAX_MS = 32_000;

export interface PodLifecycleOptions {
  client: KubeClient;
  runtime: ContainerRuntime;
  dataDir: string;
  nodeName: string;
  hostIP: string;
  containerIdPrefix: string;
  restartBackoffBaseMs?: number;
  restartBackoffMaxMs?: number;
  /** First and longest wait before a pod whose volumes failed to set up tries again (default 2 s, 32 s). */
  mountBackoffBaseMs?: number;
  mountBackoffMaxMs?: number;
  plegPeriodMs?: number;
  resyncMs?: number;
  network?: () => string | undefined;
  /** Why pods cannot get a network yet; while set, only hostNetwork pods start. */
  networkNotReady?: () => string | undefined;
  dns?: (pod: Pod) => PodDnsConfig | undefined;
  events?: boolean;
  /** Pods changing their containers at once (default 3). */
  startConcurrency?: number;
  /** The agent's Service cache, for service environment variables. */
  services: ServiceCache;
  log: (message: string) => void;
}

/**
 * Everything that turns the pods bound to this node into containers and back into status: pod
 * workers over PodSync, the PLEG, probes, volumes and the status manager. Feed it pod events.
 */
export class PodLifecycle {
  readonly pods = new Map<string, Pod>();
  readonly workers: PodWorkers;
  readonly pleg: Pleg;
  readonly probes: ProbeManager;
  readonly status: StatusManager;
  readonly volumes: VolumeManager;
  private resync?: NodeJS.Timeout;
  private readonly events: EventRecorder | undefined;
  private readonly objects: ObjectSource;

  constructor(private readonly o: PodLifecycleOptions) {
    this.events = o.events === false ? undefined : new EventRecorder(o.client, { component: 'kubelet', instance: o.nodeName, onError: (e) => o.log(e.message) });
    const objects = new ObjectSource(o.client, { services: o.services, log: o.log });
    this.objects = objects;
    this.volumes = new VolumeManager(path.join(o.dataDir, 'pods'), objects, o.runtime);
    this.status = new StatusManager(o.client, { onError: (e) => o.log(e.message) });
    this.probes = new ProbeManager(o.runtime, (uid) => this.workers.request(uid));
    const sync = new PodSync({
      client: o.client,
      runtime: o.runtime,
      volumes: this.volumes,
      objects,
      probes: this.probes,
      status: this.status,
      events: this.events,
      restartBackoff: new Backoff(o.restartBackoffBaseMs ?? 10_000, o.restartBackoffMaxMs ?? 300_000),
      pullBackoff: new Backoff(o.restartBackoffBaseMs ?? 10_000, o.restartBackoffMaxMs ?? 300_000),
      mountBackoff: new Backoff(o.mountBackoffBaseMs ?? MOUNT_BACKOFF_BASE_MS, o.mountBackoffMaxMs ?? MOUNT_BACKOFF_MAX_MS),
      startFailures: new StartFailures((uid) => this.volumes.podDir(uid)),
      hostIP: o.hostIP,
      network: o.network,
      networkNotReady: o.networkNotReady,
      dns: o.dns,
      containerIdPrefix: o.containerIdPrefix,
      requestSync: (uid, ms) => this.workers.request(uid, ms),
      startConcurrency: o.startConcurrency,
    });
    this.workers = new PodWorkers(
      (uid) => sync.sync(uid, this.pods.get(uid)),
      (uid, err) => o.log(`syncing pod ${describe(this.pods.get(uid), uid)} failed: ${err.message}`),
    );
    this.pleg = new Pleg(o.runtime, (uid) => this.workers.request(uid), o.plegPeriodMs ?? 1000);
  }

  /** Handler for the pod informer. */
  readonly onPod: InformerHandler<Pod> = (type, pod, old) => {
    const uid = pod.metadata?.uid ?? '';
    if (type === 'ADDED') traceBegin(uid);
    if (type === 'DELETED') this.pods.delete(uid);
    else this.pods.set(uid, pod);
    // Our own status writes come back as MODIFIED; they need no sync.
    if (type === 'MODIFIED' && old && old.metadata?.uid === uid && desired(old) === desired(pod)) return;
    if (old && old.metadata?.uid && old.metadata.uid !== uid) {
      this.pods.delete(old.metadata.uid);
      this.workers.request(old.metadata.uid);
    }
    this.workers.request(uid);
  };

  /** Call once the pod list is complete: only then can a container of an unknown pod be an orphan. */
  async start(): Promise<void> {
    await this.pleg.start();
    for (const uid of this.volumes.knownPods()) if (!this.pods.has(uid)) this.workers.request(uid);
    // Memory-backed emptyDirs of pods that went while we were down (their containers may be gone already).
    const withVolumes = await this.o.runtime.volumePods().catch((err: Error) => {
      this.o.log(`listing the runtime's volumes for orphans: ${err.message}`);
      return [];
    });
    for (const uid of withVolumes) if (!this.pods.has(uid)) this.workers.request(uid);
    this.resync = setInterval(() => {
      for (const uid of this.pods.keys()) this.workers.request(uid);
    }, this.o.resyncMs ?? 30_000);
    this.resync.unref();
  }

  async stop(): Promise<void> {
    if (this.resync) clearInterval(this.resync);
    this.pleg.stop();
    this.probes.stop();
    await this.workers.stop();
    await this.status.idle().catch(() => undefined);
    this.status.stop();
    this.events?.stop();
    this.objects.stop();
  }
}

/** The parts of a pod the agent acts on; status is the agent's own output. */
function desired(pod: Pod): string {
  const m = pod.metadata ?? {};
  return JSON.stringify([pod.spec, m.deletionTimestamp, m.deletionGracePeriodSeconds, m.labels, m.annotations]);
}

function describe(pod: Pod | undefined, uid: string): string {
  return pod ? `${pod.metadata?.namespace}/${pod.metadata?.name}` : `(deleted, uid ${uid})`;
}
