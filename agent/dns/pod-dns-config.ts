import type { Pod } from 'kubernetes-types/core/v1';

export interface PodDnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface ClusterDnsSettings {
  /** Address of the cluster DNS server as pods reach it (the bridge gateway, 10.88.0.1 on podman). */
  clusterDnsIp: string;
  domain?: string;
}

/**
 * The resolv.conf a pod's containers get (HostConfig.Dns, DnsSearch, DnsOptions), as the kubelet
 * builds it: ClusterFirst points at the cluster DNS with the namespace's search path and ndots:5,
 * Default leaves the engine's (the node's) resolv.conf, None uses only spec.dnsConfig. Returns
 * undefined when the engine's default applies.
 */
export function podDnsConfig(pod: Pod, settings: ClusterDnsSettings): PodDnsConfig | undefined {
  const domain = settings.domain ?? 'cluster.local';
  const ns = pod.metadata?.namespace ?? 'default';
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const extra = pod.spec?.dnsConfig;
  let base: PodDnsConfig | undefined;
  if (policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') {
    if (pod.spec?.hostNetwork && policy === 'ClusterFirst') base = undefined;
    else base = { servers: [settings.clusterDnsIp], searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain], options: ['ndots:5'] };
  } else if (policy === 'None') {
    base = { servers: [], searches: [], options: [] };
  }
  if (!extra) return base;
  const merged = base ?? { servers: [], searches: [], options: [] };
  const opts = new Map(merged.options.map((o) => [o.split(':')[0], o]));
  for (const o of extra.options ?? []) opts.set(o.name ?? '', o.value !== undefined ? `${o.name}:${o.value}` : String(o.name));
  return {
    servers: [...new Set([...merged.servers, ...(extra.nameservers ?? [])])],
    searches: [...new Set([...merged.searches, ...(extra.searches ?? [])])],
    options: [...opts.values()],
  };
}
