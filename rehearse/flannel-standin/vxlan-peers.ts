import type { Node } from 'kubernetes-types/core/v1';
import { parseCidr, type Cidr } from '../../stacks/config/cidr';
import { peerLease, sameLease, type PeerLease } from './flannel-annotations';
import { hostCommand, hostDelete, hostJson } from './ip-command';
import { subnetWithin } from './ipv4-subnet';
import type { StandinLog } from './standin-log';

/** What the Node watch hands over: the whole set after each (re)list, then single changes. */
export interface NodeEvents {
  resync(nodes: readonly Node[]): Promise<void>;
  changed(node: Node): Promise<void>;
  deleted(node: Node): Promise<void>;
}

/**
 * The vxlan backend's per-peer state on `device`: for each other Node's lease an fdb entry (its
 * VTEP MAC behind its public IP), a permanent neighbour (its subnet's network address has that
 * MAC) and an onlink route to its subnet via that address. A failed peer is logged and retried
 * at the next resync, so one bad Node does not stop the others.
 */
export class VxlanPeers implements NodeEvents {
  private readonly leases = new Map<string, PeerLease>();
  /** Why a Node is not a peer, so the reason is logged once per change rather than per event. */
  private readonly skipped = new Map<string, string>();

  constructor(
    private readonly device: string,
    private readonly ownNode: string,
    private readonly network: Cidr,
    private readonly log: StandinLog,
  ) {}

  /** Brings the device's entries to exactly the leases of `nodes`, including ones left from before a restart. */
  async resync(nodes: readonly Node[]): Promise<void> {
    const wanted = new Map<string, PeerLease>();
    for (const node of nodes) {
      const lease = this.leaseOf(node);
      if (lease) wanted.set(lease.node, lease);
    }
    for (const [name, old] of this.leases) if (!wanted.has(name)) await this.guard(name, () => this.remove(old));
    await this.guard('(stale entries)', () => this.sweep([...wanted.values()]));
    for (const lease of wanted.values()) await this.guard(lease.node, () => this.add(lease, true));
  }

  async changed(node: Node): Promise<void> {
    const name = node.metadata?.name ?? '';
    const lease = this.leaseOf(node);
    const old = this.leases.get(name);
    if (!lease) {
      if (old) await this.guard(name, () => this.remove(old));
      return;
    }
    if (!old || !sameLease(old, lease)) await this.guard(name, () => this.add(lease, false));
  }

  async deleted(node: Node): Promise<void> {
    const name = node.metadata?.name ?? '';
    this.skipped.delete(name);
    const old = this.leases.get(name);
    if (old) await this.guard(name, () => this.remove(old));
  }

  private leaseOf(node: Node): PeerLease | undefined {
    const name = node.metadata?.name ?? '';
    if (name === this.ownNode) return undefined;
    const result = peerLease(node, this.network);
    if ('lease' in result) {
      this.skipped.delete(name);
      return result.lease;
    }
    if (this.skipped.get(name) !== result.skip) this.log(`node ${name} is not a vxlan peer (yet): it ${result.skip}`);
    this.skipped.set(name, result.skip);
    return undefined;
  }

  private async guard(node: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.log(`peer ${node}: ${(err as Error).message} (retried at the next resync)`);
    }
  }

  /** Adds or replaces a peer's entries; `quiet` for the unchanged ones a resync re-asserts. */
  private async add(lease: PeerLease, quiet: boolean): Promise<void> {
    const old = this.leases.get(lease.node);
    if (old && old.subnet.cidr !== lease.subnet.cidr) await this.remove(old);
    else if (old && (old.vtepMac !== lease.vtepMac || old.publicIp !== lease.publicIp)) await this.removeFdb(old);
    const ctx = `peer ${lease.node}`;
    const gw = lease.subnet.networkAddress;
    await hostCommand(['ip', 'neigh', 'replace', gw, 'lladdr', lease.vtepMac, 'dev', this.device, 'nud', 'permanent'], `${ctx}: neighbour ${gw}`);
    await hostCommand(['bridge', 'fdb', 'append', lease.vtepMac, 'dev', this.device, 'dst', lease.publicIp, 'self', 'permanent'], `${ctx}: fdb entry ${lease.vtepMac} -> ${lease.publicIp}`);
    await hostCommand(['ip', 'route', 'replace', lease.subnet.cidr, 'via', gw, 'dev', this.device, 'onlink'], `${ctx}: route to ${lease.subnet.cidr}`);
    this.leases.set(lease.node, lease);
    if (!quiet || !old || !sameLease(old, lease)) this.log(`peer ${lease.node}: ${lease.subnet.cidr} via ${gw} on ${this.device}, VTEP ${lease.vtepMac} at ${lease.publicIp}`);
  }

  private async remove(lease: PeerLease): Promise<void> {
    const ctx = `peer ${lease.node}`;
    await hostDelete(['ip', 'route', 'del', lease.subnet.cidr, 'dev', this.device], `${ctx}: removing the route to ${lease.subnet.cidr}`);
    await hostDelete(['ip', 'neigh', 'del', lease.subnet.networkAddress, 'dev', this.device], `${ctx}: removing neighbour ${lease.subnet.networkAddress}`);
    await this.removeFdb(lease);
    this.leases.delete(lease.node);
    this.log(`peer ${lease.node}: removed ${lease.subnet.cidr} (VTEP ${lease.vtepMac} at ${lease.publicIp})`);
  }

  private removeFdb(lease: PeerLease): Promise<void> {
    return hostDelete(['bridge', 'fdb', 'del', lease.vtepMac, 'dev', this.device, 'dst', lease.publicIp, 'self'], `peer ${lease.node}: removing fdb entry ${lease.vtepMac} -> ${lease.publicIp}`);
  }

  private inNetwork(dst: string): boolean {
    const cidr = parseCidr(dst.includes('/') ? dst : `${dst}/32`);
    return cidr !== undefined && subnetWithin(cidr, this.network);
  }

  /** Removes permanent entries on the device that no current lease accounts for (Nodes deleted while stopped). */
  private async sweep(wanted: readonly PeerLease[]): Promise<void> {
    const dev = this.device;
    const fdb = await hostJson<{ mac: string; dst?: string; state?: string }>(['bridge', '-j', 'fdb', 'show', 'dev', dev], `listing ${dev}'s fdb`);
    const fdbWanted = new Set(wanted.map((l) => `${l.vtepMac}|${l.publicIp}`));
    for (const e of fdb) {
      if (e.state !== 'permanent' || !e.dst || fdbWanted.has(`${e.mac.toLowerCase()}|${e.dst}`)) continue;
      await hostDelete(['bridge', 'fdb', 'del', e.mac, 'dev', dev, 'dst', e.dst, 'self'], `removing the stale fdb entry ${e.mac} -> ${e.dst}`);
      this.log(`removed the stale fdb entry ${e.mac} -> ${e.dst}`);
    }
    const neighWanted = new Set(wanted.map((l) => l.subnet.networkAddress));
    const neighs = await hostJson<{ dst: string; state?: string[] }>(['ip', '-j', '-4', 'neigh', 'show', 'dev', dev], `listing ${dev}'s neighbours`);
    for (const n of neighs) {
      if (!n.state?.includes('PERMANENT') || neighWanted.has(n.dst)) continue;
      await hostDelete(['ip', 'neigh', 'del', n.dst, 'dev', dev], `removing the stale neighbour ${n.dst}`);
      this.log(`removed the stale neighbour ${n.dst}`);
    }
    const routeWanted = new Set(wanted.map((l) => l.subnet.cidr));
    const routes = await hostJson<{ dst: string; protocol?: string }>(['ip', '-j', '-4', 'route', 'show', 'dev', dev], `listing the routes over ${dev}`);
    for (const r of routes) {
      // Only routes into the pod network are flannel's to remove.
      if (r.protocol === 'kernel' || routeWanted.has(r.dst) || !this.inNetwork(r.dst)) continue;
      await hostDelete(['ip', 'route', 'del', r.dst, 'dev', dev], `removing the stale route to ${r.dst}`);
      this.log(`removed the stale route to ${r.dst} over ${dev}`);
    }
  }
}
