import { hostJson, HostCommandError } from './ip-command';
import { parseIpv4 } from './ipv4-subnet';

/** The interface VXLAN packets leave by, as flanneld picks it (its "external interface"). */
export interface ExternalInterface {
  readonly name: string;
  /** Its IPv4 address: the vxlan device's `local`. */
  readonly address: string;
  readonly mtu: number;
  /** What peers send VXLAN to (--public-ip, else address), published on the Node. */
  readonly publicIp: string;
}

interface AddrJson {
  ifname: string;
  mtu: number;
  addr_info?: { family: string; local: string }[];
}

/**
 * The first of `ifaces` that exists (a name or one of its IPv4 addresses), else the interface of
 * the default route; its first IPv4 address and MTU. --public-ip, when given, is only published.
 */
export async function findExternalInterface(ifaces: readonly string[], publicIp: string | undefined): Promise<ExternalInterface> {
  if (publicIp !== undefined && parseIpv4(publicIp) === undefined) throw new Error(`--public-ip ${publicIp} is not an IPv4 address`);
  const found = ifaces.length === 0 ? await byName(await defaultRouteInterface()) : await firstExisting(ifaces);
  return { ...found, publicIp: publicIp ?? found.address };
}

async function firstExisting(ifaces: readonly string[]): Promise<Omit<ExternalInterface, 'publicIp'>> {
  const reasons: string[] = [];
  for (const iface of ifaces) {
    try {
      return parseIpv4(iface) === undefined ? await byName(iface) : await byAddress(iface);
    } catch (err) {
      reasons.push((err as Error).message);
    }
  }
  throw new Error(`none of --iface ${ifaces.join(', ')} is usable: ${reasons.join('; ')}`);
}

async function defaultRouteInterface(): Promise<string> {
  const routes = await hostJson<{ dev?: string }>(['ip', '-j', '-4', 'route', 'show', 'default'], 'finding the default route\'s interface (no --iface given)');
  const dev = routes.find((r) => r.dev)?.dev;
  if (!dev) throw new Error('there is no IPv4 default route to take the interface from: give --iface=NAME');
  return dev;
}

async function byName(name: string): Promise<Omit<ExternalInterface, 'publicIp'>> {
  let links: AddrJson[];
  try {
    links = await hostJson<AddrJson>(['ip', '-j', '-4', 'addr', 'show', 'dev', name], `reading interface ${name}`);
  } catch (err) {
    throw err instanceof HostCommandError && err.isAbsent ? new Error(`interface ${name} does not exist`) : err;
  }
  const link = links[0];
  const address = link?.addr_info?.find((a) => a.family === 'inet')?.local;
  if (!link || !address) throw new Error(`interface ${name} has no IPv4 address`);
  return { name, address, mtu: link.mtu };
}

async function byAddress(address: string): Promise<Omit<ExternalInterface, 'publicIp'>> {
  const links = await hostJson<AddrJson>(['ip', '-j', '-4', 'addr', 'show'], `finding the interface with ${address}`);
  const link = links.find((l) => l.addr_info?.some((a) => a.family === 'inet' && a.local === address));
  if (!link) throw new Error(`no interface has the address ${address}`);
  return { name: link.ifname, address, mtu: link.mtu };
}
