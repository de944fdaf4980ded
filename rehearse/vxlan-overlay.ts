import { type HostRecord, hostExec } from './host-machine';

/** flannel's vxlan backend constants: device, VNI and the IANA port (as flannel uses them). */
export const VXLAN = { device: 'flannel.1', vni: 1, port: 8472, mtu: 1450 } as const;

/** A host's pod subnet lease, as flannel keeps it (spec.podCIDR with --kube-subnet-mgr). */
export interface SubnetLease {
  readonly host: HostRecord;
  /** e.g. 10.244.1.0/24 */
  readonly subnet: string;
}

const networkAddress = (subnet: string): string => subnet.split('/')[0];

/**
 * Creates `flannel.1` on one host as flanneld's vxlan backend does: VNI 1, UDP 8472, no learning,
 * the lease's network address on it; returns the device's MAC (flannel publishes it as the
 * node's `flannel.alpha.coreos.com/backend-data` VtepMAC).
 */
async function createDevice(lease: SubnetLease): Promise<string> {
  const h = lease.host;
  await hostExec(h, ['ip', 'link', 'del', VXLAN.device], { allowFailure: true });
  await hostExec(h, ['ip', 'link', 'add', VXLAN.device, 'type', 'vxlan', 'id', String(VXLAN.vni), 'local', h.address, 'dev', 'eth0', 'dstport', String(VXLAN.port), 'nolearning']);
  await hostExec(h, ['ip', 'link', 'set', VXLAN.device, 'mtu', String(VXLAN.mtu)]);
  await hostExec(h, ['ip', 'addr', 'add', `${networkAddress(lease.subnet)}/32`, 'dev', VXLAN.device]);
  await hostExec(h, ['ip', 'link', 'set', VXLAN.device, 'up']);
  await hostExec(h, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  const link = (await hostExec(h, ['cat', `/sys/class/net/${VXLAN.device}/address`])).stdout.trim();
  return link;
}

/**
 * For each remote lease, the three entries flanneld writes: an fdb entry (the peer's VTEP MAC
 * reached at its public address), a permanent neighbour (the peer subnet's network address has
 * that MAC) and an onlink route to the peer subnet through it.
 */
async function addPeer(local: HostRecord, peer: SubnetLease, peerMac: string): Promise<void> {
  const gw = networkAddress(peer.subnet);
  await hostExec(local, ['bridge', 'fdb', 'append', peerMac, 'dev', VXLAN.device, 'dst', peer.host.address, 'self', 'permanent']);
  await hostExec(local, ['ip', 'neigh', 'replace', gw, 'lladdr', peerMac, 'dev', VXLAN.device, 'nud', 'permanent']);
  await hostExec(local, ['ip', 'route', 'replace', peer.subnet, 'via', gw, 'dev', VXLAN.device, 'onlink']);
}

/** Programs the full mesh for these leases, as every flanneld would once it saw every node's lease. */
export async function programOverlay(leases: readonly SubnetLease[]): Promise<Map<string, string>> {
  const macs = new Map<string, string>();
  for (const lease of leases) macs.set(lease.host.name, await createDevice(lease));
  for (const lease of leases) {
    for (const peer of leases) if (peer !== lease) await addPeer(lease.host, peer, macs.get(peer.host.name) as string);
  }
  return macs;
}
