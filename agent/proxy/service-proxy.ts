import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import type { KubeClient } from '../../kube/client';
import { Informer } from '../../kube/informer';
import { core, type ResourceRef } from '../../kube/resource-path';
import { ConntrackCleaner } from './conntrack-cleaner';
import { KernelProxier } from './kernel-proxier';
import { nftRunner, nftUsable } from './nft-runner';
import type { Proxier } from './proxier';
import { buildServiceTable, type ServicePortEntry } from './service-table';
import { UserspaceProxier } from './userspace-proxier';

export type ProxyMode = 'auto' | 'kernel' | 'userspace';

export interface ServiceProxyOptions {
  client: KubeClient;
  /** The agent's Service informer, shared with its other readers: started here if need be, never stopped here. */
  services?: Informer<Service>;
  /** Addresses of this node: NodePort listeners in userspace mode (kernel mode matches every local address). */
  nodeAddresses: string[];
  /** auto (default): kernel when nftables NAT works here, else userspace. */
  mode?: ProxyMode;
  /** Program the rules inside this network namespace (`ip netns exec`) instead of the host's. */
  netns?: string;
  /** nftables table lotse owns (default 'lotse'). */
  table?: string;
  /** This node's pod subnet when pods have one of their own (flannel's lease). */
  localPodSubnet?: () => string | undefined;
  log?: (msg: string) => void;
}

export interface RunningServiceProxy {
  readonly mode: 'kernel' | 'userspace';
  /** Resolves once every change seen so far is in the data path. */
  settled(): Promise<void>;
  /** The table of the last sync, for status output and tests. */
  table(): ServicePortEntry[];
  /** Userspace listeners (in kernel mode: only NodePorts on loopback node addresses). */
  listening(): string[];
  /** Stops watching and removes every rule and listener. */
  stop(): Promise<void>;
}

const slicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
const RETRY_MS = 1000;

/**
 * The node's service proxy: Services and EndpointSlices come from informers (a restart re-lists
 * and rebuilds everything from the API); every change triggers a full, coalesced sync, so an
 * endpoint that turns unready leaves the data path within one API round trip plus one sync.
 */
export async function startServiceProxy(options: ServiceProxyOptions): Promise<RunningServiceProxy> {
  const log = options.log ?? (() => undefined);
  const proxier = await chooseProxier(options, log);
  // DNAT from 127/8 to a pod needs route_localnet, which lotse leaves alone: in kernel mode,
  // NodePorts on loopback node addresses are served by userspace listeners instead.
  const loopback = options.nodeAddresses.filter((a) => a.startsWith('127.'));
  const loopbackNodePorts = proxier.mode === 'kernel' && loopback.length > 0 ? new UserspaceProxier({ nodeAddresses: loopback, log }) : undefined;
  const services = options.services ?? new Informer<Service>(options.client, core('services'), { onError: (e) => log(`service proxy: services watch: ${e.message}`) });
  const slices = new Informer<EndpointSlice>(options.client, slicesRef, { onError: (e) => log(`service proxy: endpointslices watch: ${e.message}`) });
  let current: ServicePortEntry[] = [];
  let running: Promise<void> | undefined;
  let dirty = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const syncLoop = async (): Promise<void> => {
    while (dirty && !stopped) {
      dirty = false;
      const table = buildServiceTable(services.list(), slices.list());
      try {
        await proxier.sync(table);
        await loopbackNodePorts?.sync(table.filter((e) => e.nodePort).map((e) => ({ ...e, clusterIP: undefined })));
        current = table;
      } catch (err) {
        log(`service proxy: sync failed, retrying in ${RETRY_MS} ms: ${(err as Error).message}`);
        retry = setTimeout(schedule, RETRY_MS);
        return;
      }
    }
  };
  const schedule = (): void => {
    dirty = true;
    if (!running && services.hasSynced() && slices.hasSynced()) {
      running = syncLoop().finally(() => (running = undefined));
    }
  };
  services.on(schedule);
  slices.on(schedule);
  await Promise.all([services.start(), slices.start()]);
  schedule();
  await running;
  log(`service proxy: ${proxier.mode} mode, ${current.length} service ports`);

  return {
    mode: proxier.mode,
    settled: async () => {
      while (running || dirty) {
        if (running) await running;
        else if (dirty) schedule();
        if (!running && dirty) await new Promise((r) => setTimeout(r, 50));
      }
    },
    table: () => current,
    listening: () => (proxier instanceof UserspaceProxier ? proxier.listening() : loopbackNodePorts?.listening() ?? []),
    stop: async () => {
      stopped = true;
      clearTimeout(retry);
      if (!options.services) services.stop();
      slices.stop();
      await running;
      await proxier.stop();
      await loopbackNodePorts?.stop();
    },
  };
}

async function chooseProxier(options: ServiceProxyOptions, log: (msg: string) => void): Promise<Proxier> {
  const mode = options.mode ?? 'auto';
  const userspace = (): Proxier => new UserspaceProxier({ nodeAddresses: options.nodeAddresses, log });
  if (mode === 'userspace') return userspace();
  const runner = nftRunner(options.netns);
  const probe = await nftUsable(runner);
  if (probe.ok) return new KernelProxier(runner, options.table, new ConntrackCleaner(options.netns, log), options.localPodSubnet);
  if (mode === 'kernel') throw new Error(`kernel service proxy unavailable: ${probe.reason}`);
  log(`service proxy: nftables unusable (${probe.reason}); using the userspace proxy`);
  return userspace();
}
