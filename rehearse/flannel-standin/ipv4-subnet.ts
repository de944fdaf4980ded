import { contains, cidrSize, parseCidr, parseIpv4, type Cidr } from '../../stacks/config/cidr';

export { parseIpv4 };

export const formatIpv4 = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** A pod subnet as flannel uses it: the network address goes on flannel.N, the first host into subnet.env. */
export interface Ipv4Subnet {
  /** e.g. 10.244.1.0/24 */
  readonly cidr: string;
  /** 10.244.1.0: flannel.N's /32 and the gateway peers route the subnet through. */
  readonly networkAddress: string;
  /** 10.244.1.1/24: FLANNEL_SUBNET, the address the node's pod bridge takes. */
  readonly firstHostWithPrefix: string;
}

/** Parses a CIDR with zero host bits (as node IPAM hands them out); `what` names it in the error. */
export function parseSubnet(text: string, what: string): Ipv4Subnet & { readonly parsed: Cidr } {
  const parsed = parseCidr(text.trim());
  if (!parsed) throw new Error(`${what} "${text}" is not an IPv4 CIDR with zero host bits (e.g. 10.244.1.0/24); only IPv4 is stood in`);
  if (parsed.prefix > 30) throw new Error(`${what} ${text} is too small for a pod subnet (/${parsed.prefix}; flannel needs room for a gateway and pods)`);
  return {
    parsed,
    cidr: parsed.text,
    networkAddress: formatIpv4(parsed.base),
    firstHostWithPrefix: `${formatIpv4(parsed.base + 1)}/${parsed.prefix}`,
  };
}

/** True when `inner` lies wholly inside `outer`. */
export function subnetWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner.base) && inner.base + cidrSize(inner) <= outer.base + cidrSize(outer);
}
