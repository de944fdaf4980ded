import path from 'node:path';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import { KubeClient } from '../../kube/client';
import { Informer } from '../../kube/informer';
import { core } from '../../kube/resource-path';
import { startAgent, type RunningAgent } from '../agent';
import { obtainCredentialsWithRetry } from '../node/join-client';
import { hollowFacts } from '../node/node-status';
import { NodePodView } from '../pods/pod-source';
import { FakeRuntime } from './fake-runtime';

export interface HollowNodesOptions {
  server: string;
  caPem: string;
  /** The join token. */
  token: string;
  count: number;
  /** Nodes are named PREFIX-0 ... PREFIX-(count-1). */
  namePrefix: string;
  dataDir: string;
  leaseIntervalMs?: number;
  /** Joins and registrations in flight at once (default 16). */
  concurrency?: number;
  log?: (message: string) => void;
}

export interface RunningHollowNodes {
  nodes: RunningAgent[];
  stop(): Promise<void>;
}

/**
 * Many fake nodes in one process, for scale tests of the master (as kubemark): each has its own
 * identity, Node, Lease, HTTP/2 connections (one for requests and watches, one for heartbeats,
 * as a kubelet) and pods moving through their phases, but they share one watch on pods and one
 * on Services, so a thousand of them cost little more than their objects.
 */
export async function startHollowNodes(o: HollowNodesOptions): Promise<RunningHollowNodes> {
  const log = o.log ?? (() => undefined);
  const names = Array.from({ length: o.count }, (_, i) => `${o.namePrefix}-${i}`);
  const clients = new Map<string, KubeClient>();
  const heartbeats = new Map<string, KubeClient>();
  // Joins cost the master a key pair each; a few at a time keep it responsive.
  await forEachLimited(names, 4, async (nodeName) => {
    const creds = await obtainCredentialsWithRetry({ server: o.server, ca: o.caPem, joinToken: o.token, nodeName, addresses: ['127.0.0.1'], ownServingKey: false }, log, 8);
    // Each node has its own HTTP/2 connections (requests and watches; heartbeats), as kubemark's.
    clients.set(nodeName, new KubeClient({ server: o.server, ca: o.caPem, token: creds.token, http2: true }));
    heartbeats.set(nodeName, new KubeClient({ server: o.server, ca: o.caPem, token: creds.token, http2: true }));
  });
  const views = new Map<string, NodePodView>();
  const ours = new Set(names);
  const shared = new Informer<Pod>(clients.get(names[0]) as KubeClient, core('pods'), {
    onError: (e) => log(`hollow pod watch: ${e.message}`),
    // The watch is of every pod in the cluster; a pod no node here runs is kept as a stub (its
    // name and node), so a process's heap grows with its own nodes' pods, not with the cluster's.
    transform: (pod) => (pod.spec?.nodeName && ours.has(pod.spec.nodeName) ? pod : podStub(pod)),
  });
  shared.on((type, obj, old) => {
    const target = obj.spec?.nodeName ? views.get(obj.spec.nodeName) : undefined;
    const before = old?.spec?.nodeName && old.spec.nodeName !== obj.spec?.nodeName ? views.get(old.spec.nodeName) : undefined;
    target?.dispatch(type, obj, old);
    before?.dispatch(type, obj, old);
  });
  for (const n of names) views.set(n, new NodePodView(shared, n));
  // One Service cache for every hollow node's service environment variables, as for pods: a real
  // node has its own, but a thousand identical caches in one process would only cost the master.
  const services = new Informer<Service>(clients.get(names[0]) as KubeClient, core('services'), { onError: (e) => log(`hollow services watch: ${e.message}`) });
  const nodes: RunningAgent[] = [];
  await forEachLimited(names, o.concurrency ?? 16, async (nodeName) => {
    const runtime = new FakeRuntime(nodeName);
    nodes.push(
      await startAgent({
        server: o.server,
        caPem: o.caPem,
        token: o.token,
        nodeName,
        dataDir: path.join(o.dataDir, 'hollow', nodeName),
        runtime,
        addresses: ['127.0.0.1'],
        noKubeletServer: true,
        credentials: { token: '', caCert: o.caPem, servingCert: '', servingKey: '' },
        client: clients.get(nodeName),
        heartbeatClient: heartbeats.get(nodeName),
        podSource: views.get(nodeName),
        services,
        facts: hollowFacts(),
        events: false,
        plegPeriodMs: 2000,
        // The kubelet's --sync-frequency (1 min), which kubemark's hollow kubelet keeps: every pod of
        // every hollow node is synced this often, so the agent's 30 s doubled the bench's own load.
        resyncMs: 60_000,
        leaseIntervalMs: o.leaseIntervalMs,
        log,
      }),
    );
  });
  await shared.start();
  log(`${nodes.length} hollow nodes running`);
  return {
    nodes,
    stop: async () => {
      shared.stop();
      services.stop();
      await Promise.all(nodes.map((n) => n.stop()));
      for (const c of [...clients.values(), ...heartbeats.values()]) c.close();
    },
  };
}

function podStub(pod: Pod): Pod {
  const m = pod.metadata ?? {};
  return { metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion }, spec: { nodeName: pod.spec?.nodeName, containers: [] } };
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
