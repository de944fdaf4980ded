export const FLANNEL_SUBNET_FILE = '/run/flannel/subnet.env';
export const FLANNEL_NETWORK_NAME = 'lotse-flannel';

export interface FlannelSubnet {
  /** The whole cluster's pod network, 10.244.0.0/16. */
  network: string;
  /** This node's subnet as a CIDR, 10.244.1.0/24. */
  subnet: string;
  /** The bridge address flannel assigned the node, 10.244.1.1. */
  gateway: string;
  mtu: number;
}

/** Parses flannel's subnet.env (FLANNEL_NETWORK, FLANNEL_SUBNET=10.244.1.1/24, FLANNEL_MTU). */
export function parseSubnetEnv(text: string): FlannelSubnet {
  const vars = Object.fromEntries(
    text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && l.includes('=')).map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, '')];
    }),
  ) as Record<string, string>;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(vars.FLANNEL_SUBNET ?? '');
  if (!m) throw new Error(`flannel subnet.env has no usable FLANNEL_SUBNET (got "${vars.FLANNEL_SUBNET ?? ''}"), expected e.g. 10.244.1.1/24`);
  const prefix = Number(m[5]);
  const ip = m.slice(1, 5).map(Number).reduce((a, o) => (a * 256 + o) >>> 0, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (ip & mask) >>> 0;
  const dotted = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  const mtu = Number(vars.FLANNEL_MTU ?? 1450);
  return { network: vars.FLANNEL_NETWORK ?? '', subnet: `${dotted(base)}/${prefix}`, gateway: dotted(ip), mtu: Number.isFinite(mtu) && mtu > 0 ? mtu : 1450 };
}
