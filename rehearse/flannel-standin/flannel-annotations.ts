import type { Node } from 'kubernetes-types/core/v1';
import type { Cidr } from '../../stacks/config/cidr';
import { parseIpv4, parseSubnet, subnetWithin, type Ipv4Subnet } from './ipv4-subnet';

/** The annotations flanneld's kube subnet manager reads and writes on every Node. */
export const FLANNEL_ANNOTATIONS = {
  backendType: 'flannel.alpha.coreos.com/backend-type',
  backendData: 'flannel.alpha.coreos.com/backend-data',
  kubeSubnetManager: 'flannel.alpha.coreos.com/kube-subnet-manager',
  publicIp: 'flannel.alpha.coreos.com/public-ip',
} as const;

/** What this node publishes so peers can reach its subnet: backend, VTEP MAC and VNI, public IP. */
export function ownAnnotations(vni: number, vtepMac: string, publicIp: string): Record<string, string> {
  return {
    [FLANNEL_ANNOTATIONS.backendType]: 'vxlan',
    // Key order as flanneld marshals its vxlan lease attributes.
    [FLANNEL_ANNOTATIONS.backendData]: JSON.stringify({ VNI: vni, VtepMAC: vtepMac }),
    [FLANNEL_ANNOTATIONS.kubeSubnetManager]: 'true',
    [FLANNEL_ANNOTATIONS.publicIp]: publicIp,
  };
}

/** A peer's lease as the vxlan backend needs it: where its subnet is and how to reach its VTEP. */
export interface PeerLease {
  readonly node: string;
  readonly subnet: Ipv4Subnet;
  readonly vtepMac: string;
  readonly publicIp: string;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/**
 * The lease a Node announces, or why it announces none usable (not yet annotated by its flanneld,
 * another backend, no podCIDR yet, or values that would misroute traffic).
 */
export function peerLease(node: Node, network: Cidr): { lease: PeerLease } | { skip: string } {
  const name = node.metadata?.name ?? '';
  const a = node.metadata?.annotations ?? {};
  const cidr = node.spec?.podCIDR;
  if (!cidr) return { skip: 'has no spec.podCIDR yet' };
  if (a[FLANNEL_ANNOTATIONS.backendType] === undefined) return { skip: 'carries no flannel annotations yet (its flanneld has not started)' };
  if (a[FLANNEL_ANNOTATIONS.backendType] !== 'vxlan') return { skip: `uses the ${a[FLANNEL_ANNOTATIONS.backendType]} backend, not vxlan` };
  let subnet: Ipv4Subnet & { parsed: Cidr };
  try {
    subnet = parseSubnet(cidr, `node ${name}'s podCIDR`);
  } catch (err) {
    return { skip: (err as Error).message };
  }
  if (!subnetWithin(subnet.parsed, network)) return { skip: `has podCIDR ${cidr}, outside the flannel network ${network.text}` };
  const publicIp = a[FLANNEL_ANNOTATIONS.publicIp] ?? '';
  if (parseIpv4(publicIp) === undefined) return { skip: `has no IPv4 ${FLANNEL_ANNOTATIONS.publicIp} (got "${publicIp}")` };
  const vtepMac = backendMac(a[FLANNEL_ANNOTATIONS.backendData]);
  if (!vtepMac) return { skip: `has no VtepMAC in ${FLANNEL_ANNOTATIONS.backendData} (got ${JSON.stringify(a[FLANNEL_ANNOTATIONS.backendData] ?? '')})` };
  return { lease: { node: name, subnet, vtepMac: vtepMac.toLowerCase(), publicIp } };
}

function backendMac(data: string | undefined): string | undefined {
  try {
    const mac = (JSON.parse(data ?? '') as { VtepMAC?: unknown }).VtepMAC;
    return typeof mac === 'string' && MAC.test(mac) ? mac : undefined;
  } catch {
    return undefined;
  }
}

export const sameLease = (a: PeerLease, b: PeerLease): boolean => a.subnet.cidr === b.subnet.cidr && a.vtepMac === b.vtepMac && a.publicIp === b.publicIp;
