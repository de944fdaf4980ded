import { createHash } from 'node:crypto';
import type { Backend, ServicePortEntry } from './service-table';

/** Marks connections that must leave with the node's address (NodePort, hairpin), as kube-proxy's 0x4000. */
export const MASQUERADE_MARK = 0x4000;

/** What one nft transaction must produce; the proxier hands it back as `previous` next time. */
export interface NftRuleset {
  /** The transaction for `nft -f -`: only what changed since `previous`. */
  script: string;
  /** Every chain of the table with its rules, as they stand after the transaction. */
  chains: Map<string, string[]>;
  /** Every set with its spec. */
  sets: Map<string, string>;
}

export interface RenderOptions {
  /** The nftables table lotse owns entirely (family ip). */
  table: string;
  /** The previous sync's result: unchanged chains are left alone, vanished ones deleted. */
  previous?: Pick<NftRuleset, 'chains' | 'sets'>;
  /** First sync of a process: drop whatever an earlier run left and start from the API's view. */
  fresh: boolean;
  /**
   * This node's pod subnet. A pod reaching a Service whose chosen backend is a pod of the same
   * subnet gets the node's address as its source: the backend's reply then comes back through
   * the node, where conntrack undoes the DNAT, instead of straight over the bridge, which only
   * br_netfilter would have shown to conntrack (kernels without it: the rehearsal's, some boards').
   */
  localPodSubnet?: string;
}

const BASE_CHAINS: { name: string; spec: string; rule: string }[] = [
  { name: 'LOTSE-NAT-PREROUTING', spec: 'type nat hook prerouting priority -100; policy accept;', rule: 'jump LOTSE-SERVICES' },
  { name: 'LOTSE-NAT-OUTPUT', spec: 'type nat hook output priority -100; policy accept;', rule: 'jump LOTSE-SERVICES' },
  { name: 'LOTSE-NAT-POSTROUTING', spec: 'type nat hook postrouting priority 100; policy accept;', rule: 'jump LOTSE-POSTROUTING' },
  // Filter hooks run before the nat output hook (-110 < -100), so a service without endpoints is
  // refused at once instead of leaving the node towards a virtual IP nobody owns.
  { name: 'LOTSE-FILTER-INPUT', spec: 'type filter hook input priority -110; policy accept;', rule: 'ct state new jump LOTSE-REJECT' },
  { name: 'LOTSE-FILTER-FORWARD', spec: 'type filter hook forward priority -110; policy accept;', rule: 'ct state new jump LOTSE-REJECT' },
  { name: 'LOTSE-FILTER-OUTPUT', spec: 'type filter hook output priority -110; policy accept;', rule: 'ct state new jump LOTSE-REJECT' },
];

/**
 * Renders the service table as one nftables transaction in a table of lotse's own, in the shape
 * of kube-proxy's nftables mode: LOTSE-SERVICES matches ClusterIP:port, LOTSE-NODEPORTS matches
 * node-local ports, one LOTSE-SVC-* chain per service port picks a backend round-robin
 * (numgen inc), one LOTSE-SEP-* chain per backend DNATs; ClientIP affinity keeps a dynamic set of
 * client addresses per backend. Rewriting chains in place (flush + add) keeps affinity sets and
 * never disturbs established connections, whose NAT lives in conntrack.
 */
export function renderNftRuleset(entries: ServicePortEntry[], options: RenderOptions): NftRuleset {
  const t = `ip ${options.table}`;
  const chains = new Map<string, string[]>();
  const sets = new Map<string, string>();
  const chain = (name: string): string[] => {
    let rules = chains.get(name);
    if (!rules) chains.set(name, (rules = []));
    return rules;
  };
  for (const base of BASE_CHAINS) chain(base.name).push(base.rule);
  const services = chain('LOTSE-SERVICES');
  const nodePorts = chain('LOTSE-NODEPORTS');
  const reject = chain('LOTSE-REJECT');
  chain('LOTSE-POSTROUTING').push(`meta mark & ${hex(MASQUERADE_MARK)} == ${hex(MASQUERADE_MARK)} masquerade`);
  if (options.localPodSubnet) chain('LOTSE-POSTROUTING').push(`ct status dnat ip saddr ${options.localPodSubnet} ip daddr ${options.localPodSubnet} masquerade`);

  for (const e of entries) {
    const proto = e.protocol.toLowerCase();
    const match = `meta l4proto ${proto} th dport`;
    const refuse = e.protocol === 'TCP' ? 'reject with tcp reset' : 'reject';
    if (e.backends.length === 0) {
      if (e.clusterIP) reject.push(`ip daddr ${e.clusterIP} ${match} ${e.port} ${refuse}`);
      // Loopback is left to the userspace listeners, as in LOTSE-NODEPORTS below: a reset here would
      // also refuse other local listeners on 127/8 that happen to use the same port number.
      if (e.nodePort) reject.push(`fib daddr type local ip daddr != 127.0.0.0/8 ${match} ${e.nodePort} ${refuse}`);
      continue;
    }
    const svcChain = `LOTSE-SVC-${hash(e.id, e.protocol)}`;
    renderServiceChain(e, svcChain, chain, sets);
    if (e.clusterIP) services.push(`ip daddr ${e.clusterIP} ${match} ${e.port} goto ${svcChain}`);
    if (e.nodePort) {
      const extChain = `LOTSE-EXT-${hash(e.id, e.protocol)}`;
      chain(extChain).push(`meta mark set mark or ${hex(MASQUERADE_MARK)}`, `goto ${svcChain}`);
      nodePorts.push(`${match} ${e.nodePort} goto ${extChain}`);
    }
  }
  // Last in LOTSE-SERVICES, as kube-proxy: anything addressed to the node itself may be a NodePort.
  // Loopback is left out, since DNAT from 127/8 to another host needs route_localnet.
  services.push('fib daddr type local ip daddr != 127.0.0.0/8 jump LOTSE-NODEPORTS');

  return { script: script(t, chains, sets, options), chains, sets };
}

function renderServiceChain(
  e: ServicePortEntry,
  svcChain: string,
  chain: (name: string) => string[],
  sets: Map<string, string>,
): void {
  const endpointChains = e.backends.map((b) => `LOTSE-SEP-${hash(e.id, e.protocol, b.ip, String(b.port))}`);
  const rules = chain(svcChain);
  e.backends.forEach((b, i) => {
    const sep = chain(endpointChains[i]);
    // Hairpin: a pod reaching itself through its service must see the node as the source.
    sep.push(`ip saddr ${b.ip} meta mark set mark or ${hex(MASQUERADE_MARK)}`);
    if (e.affinitySeconds !== undefined) {
      const set = `LOTSE-AFF-${hash(e.id, e.protocol, b.ip, String(b.port), String(e.affinitySeconds))}`;
      sets.set(set, `type ipv4_addr; flags dynamic,timeout; timeout ${e.affinitySeconds}s;`);
      rules.push(`ip saddr @${set} goto ${endpointChains[i]}`);
      sep.push(`update @${set} { ip saddr }`);
    }
    sep.push(dnat(e, b));
  });
  if (endpointChains.length === 1) rules.push(`goto ${endpointChains[0]}`);
  else rules.push(`numgen inc mod ${endpointChains.length} vmap { ${endpointChains.map((c, i) => `${i} : goto ${c}`).join(', ')} }`);
}

function dnat(e: ServicePortEntry, b: Backend): string {
  return `meta l4proto ${e.protocol.toLowerCase()} dnat to ${b.ip}:${b.port}`;
}

/**
 * Only chains whose rules changed are flushed and refilled, so an endpoint change touches a
 * handful of chains however many services exist (a full rewrite of 1,000 endpoints takes nft
 * about half a second here).
 */
function script(t: string, chains: Map<string, string[]>, sets: Map<string, string>, options: RenderOptions): string {
  const previous = options.fresh ? undefined : options.previous;
  const lines: string[] = [`add table ${t}`];
  if (options.fresh) lines.push(`delete table ${t}`, `add table ${t}`);
  for (const [name, spec] of sets) if (previous?.sets.get(name) !== spec) lines.push(`add set ${t} ${name} { ${spec} }`);
  const bases = new Map(BASE_CHAINS.map((b) => [b.name, b.spec]));
  for (const name of chains.keys()) {
    if (previous?.chains.has(name)) continue;
    const spec = bases.get(name);
    lines.push(spec ? `add chain ${t} ${name} { ${spec} }` : `add chain ${t} ${name}`);
  }
  // Regular chains first so every jump target is complete before a base chain jumps to it.
  const order = [...chains.keys()].sort((a, b) => Number(bases.has(a)) - Number(bases.has(b)));
  for (const name of order) {
    const rules = chains.get(name) ?? [];
    const before = previous?.chains.get(name);
    if (before && sameRules(before, rules)) continue;
    if (before) lines.push(`flush chain ${t} ${name}`);
    for (const rule of rules) lines.push(`add rule ${t} ${name} ${rule}`);
  }
  if (previous) {
    const stale = [...previous.chains.keys()].filter((c) => !chains.has(c));
    for (const name of stale) lines.push(`flush chain ${t} ${name}`);
    for (const name of stale) lines.push(`delete chain ${t} ${name}`);
    for (const name of previous.sets.keys()) if (!sets.has(name)) lines.push(`delete set ${t} ${name}`);
  }
  return lines.join('\n') + '\n';
}

function sameRules(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

function hash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url').replace(/[-_]/g, 'x').slice(0, 16).toUpperCase();
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
