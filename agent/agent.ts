import os from 'node:os';
import fs from 'node:fs';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import { KubeClient } from '../kube/client';
import { Informer } from '../kube/informer';
import { core } from '../kube/resource-path';
import { CredentialKeeper } from './node/credential-keeper';
import { ResourceMetrics } from './metrics/resource-metrics';
import { obtainCredentialsWithRetry, type NodeCredentials } from './node/join-client';
import { startKubeletServer, type ContainerLookup, type RunningKubeletServer } from './server/kubelet-server';
import { LeaseRenewer } from './node/lease-renewer';
import { PodNetwork } from './network/pod-network';
import { registerNode } from './node/node-registration';
import { hostFacts, NodeStatusUpdater, type NodeFacts, type NodeIdentity } from './node/node-status';
import { instances } from './pods/pod-status-builder';
import { PodLifecycle } from './pods/pod-lifecycle';
import type { PodSource } from './pods/pod-source';
import type { ContainerRuntime } from './runtime/container-runtime';
import type { RunningClusterDns } from './dns/cluster-dns';
import { podDnsConfig } from './dns/pod-dns-config';
import type { RunningIngressController } from './ingress/ingress-controller';
import type { ProxyMode, RunningServiceProxy } from './proxy/service-proxy';

export interface AgentOptions {
  server: string;
  /** PEM of the cluster CA (--ca-file). */
  caPem: string;
  /** The join token (--token); unused when credentials are given. */
  token: string;
  nodeName: string;
  dataDir: string;
  runtime: ContainerRuntime;
  /** InternalIP addresses to report (default: the first non-loopback IPv4, else 127.0.0.1). */
  addresses?: string[];
  /** Port of the logs/exec server (default 10250; 0 picks one). */
  kubeletPort?: number;
  /** Skip the logs/exec server (hollow nodes). */
  noKubeletServer?: boolean;
  maxPods?: number;
  restartBackoffBaseMs?: number;
  restartBackoffMaxMs?: number;
  plegPeriodMs?: number;
  leaseIntervalMs?: number;
  /** How often node status is computed (default 10 s); a change is written at once. */
  nodeStatusPeriodMs?: number;
  /** How often an unchanged node status is written anyway (default 5 min, the kubelet's nodeStatusReportFrequency). */
  nodeStatusReportMs?: number;
  /** Seconds between full resyncs of every pod (default 30 s): refreshes projected ConfigMaps and Secrets. */
  resyncMs?: number;
  flannelSubnetFile?: string;
  /** Pods wait for flannel's subnet.env and the node is NotReady until it exists (hosts); else the engine's network serves meanwhile. */
  requirePodNetwork?: boolean;
  facts?: NodeFacts;
  /** Already-obtained credentials and client (hollow nodes share a process and a join). */
  credentials?: NodeCredentials;
  client?: KubeClient;
  /**
   * The client of the node's heartbeats: Lease renewals and node status. Default: a client of its
   * own, as the kubelet's heartbeat client, so a heartbeat never waits for a connection behind a
   * burst of pod work, nor for a new TLS handshake with a busy master; with `client` given and
   * this not, that client.
   */
  heartbeatClient?: KubeClient;
  podSource?: PodSource;
  /**
   * Cache of every Service (hollow nodes share one; the agent does not stop a given one). Default:
   * the agent's own, one watch shared by the service environment variables, the service proxy,
   * cluster DNS and the ingress router, started by the first of them that needs it.
   */
  services?: Informer<Service>;
  /** Pods changing their containers at once (default 3). */
  startConcurrency?: number;
  /** Write Events (default true). */
  events?: boolean;
  /** Service proxy for ClusterIPs and NodePorts (default 'none' here; the CLI defaults to auto). */
  proxyMode?: ProxyMode | 'none';
  /** nftables table of the proxy (default 'lotse'); one per host. */
  proxyTable?: string;
  /** Serve cluster DNS on this address (the pod bridge's gateway) and point ClusterFirst pods at it. */
  clusterDns?: { address: string; domain?: string; port?: number };
  /** Remove the directories of local-path volumes whose PersistentVolume is gone (real nodes, not hollow ones). */
  cleanLocalVolumes?: boolean;
  /** Route the cluster's Ingresses on these ports (0 disables one; undefined: no ingress). */
  ingress?: { address: string; httpPort: number; httpsPort: number };
  log?: (message: string) => void;
}

export interface RunningAgent {
  nodeName: string;
  kubeletPort: number;
  client: KubeClient;
  lease: LeaseRenewer;
  /** Stops the agent's loops; containers keep running (a restarted agent adopts them). */
  stop(): Promise<void>;
}

export function defaultAddresses(): string[] {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return [a.address];
  }
  return ['127.0.0.1'];
}

/** Wires the agent: join, node registration, lease, node status, pod workers, probes, PLEG, logs/exec server. */
export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const log = o.log ?? (() => undefined);
  const addresses = o.addresses ?? defaultAddresses();
  fs.mkdirSync(o.dataDir, { recursive: true });
  const join = { server: o.server, ca: o.caPem, joinToken: o.token, nodeName: o.nodeName, addresses, dataDir: o.dataDir };
  const creds = o.credentials ?? (await obtainCredentialsWithRetry(join, log));
  let keeper: CredentialKeeper | undefined;
  let nodeStatus: NodeStatusUpdater | undefined;
  // HTTP/2, as the kubelet: the node's watches (one per ConfigMap and Secret its pods use) share a connection.
  const client = o.client ?? new KubeClient({ server: o.server, ca: o.caPem, token: creds.token, http2: true, onUnauthorized: () => keeper?.unauthorized() });
  const heartbeat = o.heartbeatClient ?? o.client ?? new KubeClient({ server: o.server, ca: o.caPem, token: creds.token, http2: true, onUnauthorized: () => keeper?.unauthorized() });
  const useToken = (token: string): void => {
    client.setToken(token);
    if (heartbeat !== client) heartbeat.setToken(token);
  };
  if (!o.client && !o.credentials) keeper = new CredentialKeeper(creds, { join, use: useToken, rejoined: () => void nodeStatus?.update(true).catch((e: Error) => log(`node status: ${e.message}`)), log }).start();
  const runtimeInfo = await o.runtime.info().catch((err: Error) => {
    log(`container runtime not reachable yet: ${err.message}`);
    return { name: 'docker', version: 'unknown', runtimeVersion: 'docker://unknown' };
  });

  const pods: PodSource = o.podSource ?? new Informer<Pod>(client, core('pods'), { query: { fieldSelector: `spec.nodeName=${o.nodeName}` }, onError: (e) => log(`pod watch: ${e.message}`) });
  const podNetwork = new PodNetwork({ runtime: o.runtime, subnetFile: o.flannelSubnetFile, required: o.requirePodNetwork ?? false, log });
  const services = o.services ?? new Informer<Service>(client, core('services'), { onError: (e) => log(`services watch: ${e.message}`) });
  let dns: RunningClusterDns | undefined;
  const lifecycle = new PodLifecycle({
    client, runtime: o.runtime, dataDir: o.dataDir, nodeName: o.nodeName, hostIP: addresses[0],
    containerIdPrefix: `${runtimeInfo.name}://`,
    restartBackoffBaseMs: o.restartBackoffBaseMs, restartBackoffMaxMs: o.restartBackoffMaxMs,
    plegPeriodMs: o.plegPeriodMs, resyncMs: o.resyncMs, network: () => podNetwork.network(), networkNotReady: () => podNetwork.notReady(), events: o.events, log,
    // Pods point at the cluster DNS only once it serves; before, or when it failed, the node's resolvers.
    dns: (pod: Pod) => (dns ? podDnsConfig(pod, { clusterDnsIp: dns.address, domain: o.clusterDns?.domain }) : undefined),
    startConcurrency: o.startConcurrency,
    services,
  });

  const metrics = new ResourceMetrics(o.runtime);
  let server: RunningKubeletServer | undefined;
  if (!o.noKubeletServer) {
    server = await startKubeletServer({
      port: o.kubeletPort ?? 10250,
      caPem: creds.caCert || o.caPem,
      certPem: creds.servingCert,
      keyPem: creds.servingKey,
      runtime: o.runtime,
      locate: (ns, name, container, previous) => locate(o.runtime, pods, ns, name, container, previous),
      resourceMetrics: () => metrics.current(),
      podAddress: async (ns, name) => {
        const pod = pods.list().find((p) => p.metadata?.namespace === ns && p.metadata?.name === name);
        if (!pod) return { code: 404, message: `pod ${ns}/${name} is not on this node` };
        const ip = pod.status?.podIP;
        return ip ? { ip } : { code: 400, message: `pod ${ns}/${name} has no IP yet: wait until it is running` };
      },
    });
  }
  const id: NodeIdentity = { name: o.nodeName, addresses, kubeletPort: server?.port ?? 0, maxPods: o.maxPods ?? 110, runtimeVersion: runtimeInfo.runtimeVersion };
  const node = await registerNode(client, id, { onError: (e) => log(e.message) });
  const lease = new LeaseRenewer(heartbeat, o.nodeName, { intervalMs: o.leaseIntervalMs, nodeUid: node.metadata?.uid, onError: (e) => log(e.message) });
  lease.start();
  nodeStatus = new NodeStatusUpdater(heartbeat, id, o.facts ?? hostFacts(o.dataDir), {
    periodMs: o.nodeStatusPeriodMs,
    fullEveryMs: o.nodeStatusReportMs,
    runtimeError: () => lifecycle.pleg.lastError?.message,
    networkError: () => podNetwork.notReady(),
    onNodeMissing: async () => {
      log(`node ${o.nodeName} was deleted from the API; registering it again`);
      await registerNode(client, id, { onError: (e) => log(e.message) });
    },
    onError: (e) => log(`node status: ${e.message}`),
  });
  await nodeStatus.update(true).catch((e: Error) => log(`first node status: ${e.message}`));
  nodeStatus.start();

  // Readiness follows the pod network at once, not at the next status period.
  await podNetwork.start(() => void nodeStatus.update().catch((e: Error) => log(`node status: ${e.message}`)));

  // Services and DNS are add-ons of the node: when one cannot start, the node still runs pods and says why.
  const proxy = await startProxy(o, client, services, addresses, podNetwork, log);
  if (proxy) log(`service proxy running in ${proxy.mode} mode`);
  dns = await startDns(o, client, services, log);
  const cleaner = o.cleanLocalVolumes ? (await import('./volumes/local-volume-cleaner')).startLocalVolumeCleaner(client, log) : undefined;
  const ingress = await startIngress(o, client, services, { certPem: creds.servingCert, keyPem: creds.servingKey }, log);

  pods.on(lifecycle.onPod);
  await pods.start();
  await lifecycle.start();
  log(`node ${o.nodeName} registered (${addresses.join(', ')}), kubelet port ${id.kubeletPort}, runtime ${runtimeInfo.runtimeVersion}`);

  return {
    nodeName: o.nodeName,
    kubeletPort: id.kubeletPort,
    client,
    lease,
    stop: async () => {
      keeper?.stop();
      metrics.stop();
      pods.stop();
      if (!o.services) services.stop();
      lease.stop();
      nodeStatus.stop();
      podNetwork.stop();
      await lifecycle.stop();
      await proxy?.stop();
      await dns?.stop();
      await ingress?.stop();
      cleaner?.stop();
      await server?.close();
      if (!o.client) client.close();
      if (!o.heartbeatClient && heartbeat !== client) heartbeat.close();
    },
  };
}

/**
 * The service proxy, when asked for. Its code (and the DNS server's, with dns-packet) is loaded only
 * here: a node without them does not carry it in memory (the agent's idle RSS is a target).
 */
async function startProxy(o: AgentOptions, client: KubeClient, services: Informer<Service>, addresses: string[], podNetwork: PodNetwork, log: (m: string) => void): Promise<RunningServiceProxy | undefined> {
  if (!o.proxyMode || o.proxyMode === 'none') return undefined;
  try {
    const { startServiceProxy } = await import('./proxy/service-proxy');
    return await startServiceProxy({ client, services, nodeAddresses: addresses, mode: o.proxyMode, table: o.proxyTable, localPodSubnet: () => podNetwork.subnet(), log });
  } catch (err) {
    log(`service proxy not started (ClusterIPs and NodePorts will not answer on this node): ${(err as Error).message}`);
    return undefined;
  }
}

/** The ingress router, when asked for; loaded only then (with its proxy library), as the service proxy is. */
async function startIngress(o: AgentOptions, client: KubeClient, services: Informer<Service>, nodeCertificate: { certPem: string; keyPem: string }, log: (m: string) => void): Promise<RunningIngressController | undefined> {
  if (!o.ingress || (o.ingress.httpPort === 0 && o.ingress.httpsPort === 0)) return undefined;
  try {
    const { startIngressController } = await import('./ingress/ingress-controller');
    // Hosts without a certificate of their own get the node's serving certificate, as ingress
    // controllers serve a default one: browsers warn either way, and no key is made at start.
    return await startIngressController({ client, services, ...o.ingress, fallbackCertificate: nodeCertificate, log });
  } catch (err) {
    log(`ingress not served on this node (ports ${o.ingress.httpPort}/${o.ingress.httpsPort}): ${(err as Error).message}`);
    return undefined;
  }
}

/** Cluster DNS on the pod bridge's gateway, when asked for; loaded only then, as the proxy is. */
async function startDns(o: AgentOptions, client: KubeClient, services: Informer<Service>, log: (m: string) => void): Promise<RunningClusterDns | undefined> {
  if (!o.clusterDns) return undefined;
  try {
    const { startClusterDns } = await import('./dns/cluster-dns');
    return await startClusterDns({ client, services, address: o.clusterDns.address, port: o.clusterDns.port ?? 53, domain: o.clusterDns.domain, waitForAddressMs: 1000, log });
  } catch (err) {
    log(`cluster DNS not started on ${o.clusterDns.address} (pods fall back to the node's resolvers): ${(err as Error).message}`);
    return undefined;
  }
}

/** Finds the container a logs/exec request means: current instance, or the one before with previous. */
async function locate(runtime: ContainerRuntime, pods: PodSource, ns: string, name: string, container: string, previous: boolean): Promise<ContainerLookup> {
  const pod = pods.list().find((p) => p.metadata?.namespace === ns && p.metadata?.name === name);
  if (!pod) return { code: 404, message: `pod ${ns}/${name} is not on this node` };
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const initNames = (pod.spec?.initContainers ?? []).map((c) => c.name);
  const ephemeralNames = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
  if (!container) {
    if (names.length !== 1) return { code: 400, message: `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]` };
    container = names[0];
  }
  const kind = names.includes(container) ? 'app' : initNames.includes(container) ? 'init' : ephemeralNames.includes(container) ? 'ephemeral' : undefined;
  if (!kind) return { code: 400, message: `container ${container} is not valid for pod ${name}` };
  const found = instances(await runtime.listContainers(pod.metadata?.uid), container, kind);
  const c = previous ? found.previous : found.current;
  if (!c) {
    return previous
      ? { code: 400, message: `previous terminated container "${container}" in pod "${name}" not found` }
      : { code: 400, message: `container "${container}" in pod "${name}" is waiting to start` };
  }
  return { id: c.id };
}
