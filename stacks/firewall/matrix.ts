import type { ClusterConfig } from '../config/cluster-config';
import { FLANNEL_VXLAN_PORT } from '../ignition/flannel-unit';

/** Who may send: the operators (adminCidrs), the cluster's own machines, or explicit CIDRs from config. */
export type RuleSource = { readonly kind: 'admin' } | { readonly kind: 'cluster' } | { readonly kind: 'cidrs'; readonly cidrs: readonly string[] };

/** Which machines receive. */
export type RuleTarget = 'all' | 'masters' | 'workers';

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** One inbound allowance. Everything not listed is dropped by every target's firewall. */
export interface FirewallRule {
  /** Short, unique, DNS-label-safe; targets build resource names from it. */
  readonly name: string;
  readonly protocol: 'tcp' | 'udp' | 'icmp';
  /** Absent for icmp. */
  readonly ports?: PortRange;
  readonly source: RuleSource;
  readonly target: RuleTarget;
  readonly why: string;
}

function range(text: string): PortRange {
  const [from, to] = text.split('-').map(Number);
  return { from, to: to ?? from };
}

/** "22", "2379-2380": the form GCE, DigitalOcean and Scaleway all accept. */
export function portText(ports: PortRange): string {
  return ports.from === ports.to ? String(ports.from) : `${ports.from}-${ports.to}`;
}

/**
 * The cluster's inbound traffic, one place for every cloud:
 * operators reach SSH and the API; machines reach each other for the API, etcd, vxlan and the
 * agents' port; the workers' ingress ports 80/443 take firewall.ingressSources (the world by default).
 * Nothing else is open to the world unless firewall.extraIngress says so.
 */
export function firewallMatrix(config: ClusterConfig): FirewallRule[] {
  const admin: RuleSource = { kind: 'admin' };
  const cluster: RuleSource = { kind: 'cluster' };
  const rules: FirewallRule[] = [
    { name: 'ssh', protocol: 'tcp', ports: range('22'), source: admin, target: 'all', why: 'operators and the bootstrap log in' },
    { name: 'api', protocol: 'tcp', ports: range('6443'), source: admin, target: 'masters', why: 'kubectl reaches the API' },
    { name: 'api-nodes', protocol: 'tcp', ports: range('6443'), source: cluster, target: 'masters', why: 'agents reach the API' },
    { name: 'etcd', protocol: 'tcp', ports: range('2379-2380'), source: cluster, target: 'masters', why: 'etcd clients (masters, flannel) and peers' },
    { name: 'vxlan', protocol: 'udp', ports: range(String(FLANNEL_VXLAN_PORT)), source: cluster, target: 'all', why: 'flannel overlay between nodes' },
    { name: 'agent', protocol: 'tcp', ports: range('10250'), source: cluster, target: 'all', why: 'the API reaches agents for logs and exec' },
    { name: 'icmp', protocol: 'icmp', source: cluster, target: 'all', why: 'path MTU discovery and diagnostics between nodes' },
  ];
  const web = config.firewall.ingressSources;
  if (web.length > 0) {
    const source: RuleSource = { kind: 'cidrs', cidrs: web };
    rules.push({ name: 'http', protocol: 'tcp', ports: range('80'), source, target: 'workers', why: 'Ingresses over HTTP (every agent routes them)' });
    rules.push({ name: 'https', protocol: 'tcp', ports: range('443'), source, target: 'workers', why: 'Ingresses over HTTPS' });
  }
  for (const extra of config.firewall.extraIngress) {
    rules.push({
      name: `x-${extra.name}`,
      protocol: extra.protocol,
      ports: range(extra.ports),
      source: { kind: 'cidrs', cidrs: extra.sources },
      target: extra.to,
      why: 'firewall.extraIngress in cluster.yaml',
    });
  }
  return rules;
}

/** CIDRs a rule admits from outside the cluster (empty for cluster-internal rules). */
export function externalSources(rule: FirewallRule, config: ClusterConfig): readonly string[] {
  switch (rule.source.kind) {
    case 'admin':
      return config.adminCidrs;
    case 'cidrs':
      return rule.source.cidrs;
    case 'cluster':
      return [];
  }
}
