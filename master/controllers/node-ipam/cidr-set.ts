/**
 * The node subnets of a cluster pod CIDR: the cluster range cut into blocks of one mask size,
 * as Kubernetes' node IPAM controller cuts --cluster-cidr by --node-cidr-mask-size. IPv4 only.
 */
export class CidrSet {
  readonly count: number;
  private readonly base: number;
  private readonly blockSize: number;

  constructor(
    readonly clusterCidr: string,
    readonly maskSize: number,
  ) {
    const { base, bits } = parseCidr(clusterCidr, '--cluster-cidr');
    if (!Number.isInteger(maskSize) || maskSize < bits || maskSize > 30) {
      throw new Error(`--node-cidr-mask-size ${maskSize} does not fit --cluster-cidr ${clusterCidr}: it must be between ${bits} and 30`);
    }
    // Kubernetes refuses more than 2^16 node subnets for the same reason: the set is walked linearly.
    if (maskSize - bits > 16) throw new Error(`--node-cidr-mask-size ${maskSize} cuts ${clusterCidr} into more than 65536 node subnets; use a mask of at most ${bits + 16}`);
    this.base = base;
    this.blockSize = 2 ** (32 - maskSize);
    this.count = 2 ** (maskSize - bits);
  }

  /** The index-th node subnet, e.g. 10.244.3.0/24. */
  subnet(index: number): string {
    return `${toIp(this.base + index * this.blockSize)}/${this.maskSize}`;
  }

  /** Which subnet of this set `cidr` is, or undefined when it is not one of them. */
  indexOf(cidr: string): number | undefined {
    let parsed: { base: number; bits: number };
    try {
      parsed = parseCidr(cidr, 'podCIDR');
    } catch {
      return undefined;
    }
    if (parsed.bits !== this.maskSize) return undefined;
    const offset = parsed.base - this.base;
    if (offset < 0 || offset % this.blockSize !== 0) return undefined;
    const index = offset / this.blockSize;
    return index < this.count ? index : undefined;
  }
}

function parseCidr(cidr: string, what: string): { base: number; bits: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits > 32) throw new Error(`${what} "${cidr}" is not an IPv4 CIDR such as 10.244.0.0/16`);
  const ip = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const size = 2 ** (32 - bits);
  if (ip % size !== 0) throw new Error(`${what} "${cidr}" has host bits set; did you mean ${toIp(ip - (ip % size))}/${bits}?`);
  return { base: ip, bits };
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
