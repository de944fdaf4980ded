import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { ConfigMap, Pod, PodStatus, Secret } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import type { KubeClient } from '../../../kube/client';
import type { ResourceRef } from '../../../kube/resource-path';
import { PodLifecycle } from '../../../agent/pods/pod-lifecycle';
import type { ContainerRuntime } from '../../../agent/runtime/container-runtime';

/**
 * Drives the agent's pod machinery (PodLifecycle) against a real runtime with a stand-in for the
 * master: it records status writes and deletes and serves ConfigMaps and Secrets from memory.
 */
export class PodHarness {
  readonly statuses = new Map<string, PodStatus>();
  readonly deleted: string[] = [];
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  readonly log: string[] = [];
  /** When each ServiceAccount token was asked for (Date.now()); the harness refuses them all with 429. */
  readonly tokenRequests: number[] = [];
  lifecycle!: PodLifecycle;
  readonly dataDir: string;

  constructor(private readonly runtime: ContainerRuntime, readonly nodeName: string, dataDir?: string, private readonly backoffBaseMs = 400) {
    this.dataDir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-agent-'));
  }

  async start(pods: Pod[] = []): Promise<void> {
    this.lifecycle = new PodLifecycle({
      client: this.client(),
      runtime: this.runtime,
      dataDir: this.dataDir,
      nodeName: this.nodeName,
      hostIP: '127.0.0.1',
      containerIdPrefix: 'podman://',
      restartBackoffBaseMs: this.backoffBaseMs,
      restartBackoffMaxMs: this.backoffBaseMs * 8,
      mountBackoffBaseMs: this.backoffBaseMs / 2,
      mountBackoffMaxMs: this.backoffBaseMs * 4,
      plegPeriodMs: 250,
      events: false,
      // The service variables: a cluster without Services.
      services: { start: async () => undefined, list: () => [] },
      log: (m) => this.log.push(m),
    });
    for (const p of pods) this.lifecycle.onPod('ADDED', p);
    await this.lifecycle.start();
  }

  add(pod: Pod): Pod {
    this.lifecycle.onPod('ADDED', pod);
    return pod;
  }

  update(pod: Pod): void {
    this.lifecycle.onPod('MODIFIED', pod);
  }

  remove(pod: Pod): void {
    this.lifecycle.onPod('DELETED', pod);
  }

  status(pod: Pod): PodStatus | undefined {
    return this.statuses.get(pod.metadata?.uid ?? '');
  }

  async stop(): Promise<void> {
    await this.lifecycle?.stop();
  }

  private client(): KubeClient {
    const stub = {
      patch: async (ref: ResourceRef, _type: string, body: { status: PodStatus }) => {
        const pod = [...this.lifecycle.pods.values()].find((p) => p.metadata?.name === ref.name && p.metadata?.namespace === ref.namespace);
        if (!pod) throw new ApiError(404, 'NotFound', `pods "${ref.name}" not found`);
        this.statuses.set(pod.metadata?.uid ?? '', body.status);
        return pod;
      },
      get: async (ref: ResourceRef) => {
        const store = ref.resource === 'configmaps' ? this.configMaps : this.secrets;
        const obj = store.get(`${ref.namespace}/${ref.name}`);
        if (!obj) throw new ApiError(404, 'NotFound', `${ref.resource} "${ref.name}" not found`);
        return obj;
      },
      delete: async (ref: ResourceRef, opts: { preconditions?: { uid?: string } }) => {
        this.deleted.push(`${ref.namespace}/${ref.name}`);
        const uid = opts.preconditions?.uid ?? '';
        const pod = this.lifecycle.pods.get(uid);
        // The master removes the object; the informer then reports DELETED.
        if (pod) setImmediate(() => this.lifecycle.onPod('DELETED', pod));
        return pod;
      },
      create: async (ref: ResourceRef, body: unknown) => {
        if (ref.subresource !== 'token') return body;
        this.tokenRequests.push(Date.now());
        throw new ApiError(429, 'TooManyRequests', 'too many requests, please try again later');
      },
      // The service variables: a namespace without Services, as the API lists it.
      list: async (ref: ResourceRef) => {
        if (ref.resource !== 'services') throw new ApiError(404, 'NotFound', `the harness serves no list of ${ref.resource}`);
        return { apiVersion: 'v1', kind: 'ServiceList', metadata: { resourceVersion: '1' }, items: [] };
      },
    };
    return stub as unknown as KubeClient;
  }
}

export function makePod(name: string, spec: Pod['spec'], extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: crypto.randomUUID(), ...extra },
    spec: { nodeName: 'test', restartPolicy: 'Always', terminationGracePeriodSeconds: 2, ...spec } as Pod['spec'],
  };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, describe?: () => unknown): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `; last seen: ${JSON.stringify(describe(), null, 1).slice(0, 3000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
