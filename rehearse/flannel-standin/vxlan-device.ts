import type { ExternalInterface } from './external-interface';
import { hostCommand, hostDelete, hostJson, HostCommandError } from './ip-command';
import type { Ipv4Subnet } from './ipv4-subnet';
import type { StandinLog } from './standin-log';

/** The VXLAN header and outer IPv4/UDP/Ethernet headers, which the device's MTU leaves room for. */
export const VXLAN_OVERHEAD = 50;

export interface VxlanDevice {
  /** flannel.VNI, e.g. flannel.1 */
  readonly name: string;
  /** Its MAC: flanneld publishes it as the VtepMAC peers address frames to. */
  readonly mac: string;
  readonly mtu: number;
}

export interface VxlanDeviceSpec {
  readonly vni: number;
  readonly port: number;
  readonly external: ExternalInterface;
  /** This node's pod subnet: its network address goes on the device as a /32. */
  readonly subnet: Ipv4Subnet;
}

interface LinkJson {
  address: string;
  mtu: number;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; link?: string; port?: number; learning?: boolean } };
}

export const vxlanDeviceName = (vni: number): string => `flannel.${vni}`;

/**
 * Makes the device flanneld's vxlan backend makes, keeping one that already matches (so a restart
 * leaves the MAC peers know, and their entries, in place) and re-creating one whose VNI, local
 * address, underlying interface, port or learning differ.
 */
export async function ensureVxlanDevice(spec: VxlanDeviceSpec, log: StandinLog): Promise<VxlanDevice> {
  const name = vxlanDeviceName(spec.vni);
  const existing = await readLink(name);
  const mismatch = existing && incompatibility(existing, spec);
  if (mismatch) {
    log(`${name} exists but ${mismatch}: re-creating it`);
    await hostDelete(['ip', 'link', 'del', name], `removing the incompatible ${name}`);
  }
  if (!existing || mismatch) {
    await hostCommand(['ip', 'link', 'add', name, 'type', 'vxlan', 'id', String(spec.vni), 'local', spec.external.address, 'dev', spec.external.name, 'dstport', String(spec.port), 'nolearning'], `creating ${name}`);
    log(`created ${name} (VNI ${spec.vni}, local ${spec.external.address}, dev ${spec.external.name}, dstport ${spec.port})`);
  }
  const mtu = spec.external.mtu - VXLAN_OVERHEAD;
  await hostCommand(['ip', 'link', 'set', name, 'mtu', String(mtu)], `setting ${name}'s MTU to ${spec.external.name}'s ${spec.external.mtu} - ${VXLAN_OVERHEAD}`);
  await ensureOnlyAddress(name, `${spec.subnet.networkAddress}/32`);
  await hostCommand(['ip', 'link', 'set', name, 'up'], `setting ${name} up`);
  const link = await readLink(name);
  if (!link) throw new Error(`${name} vanished right after it was set up`);
  return { name, mac: link.address, mtu };
}

async function readLink(name: string): Promise<LinkJson | undefined> {
  try {
    return (await hostJson<LinkJson>(['ip', '-j', '-d', 'link', 'show', 'dev', name], `reading ${name}`))[0];
  } catch (err) {
    if (err instanceof HostCommandError && err.isAbsent) return undefined;
    throw err;
  }
}

/** Why an existing device cannot be kept, or undefined when it can. */
function incompatibility(link: LinkJson, spec: VxlanDeviceSpec): string | undefined {
  const info = link.linkinfo;
  if (info?.info_kind !== 'vxlan') return `is a ${info?.info_kind ?? 'plain'} device, not vxlan`;
  const d = info.info_data ?? {};
  if (d.id !== spec.vni) return `has VNI ${d.id}, not ${spec.vni}`;
  if (d.local !== spec.external.address) return `has local ${d.local ?? 'none'}, not ${spec.external.address}`;
  if (d.link !== undefined && d.link !== spec.external.name) return `runs over ${d.link}, not ${spec.external.name}`;
  if (d.port !== spec.port) return `uses port ${d.port}, not ${spec.port}`;
  if (d.learning) return 'learns addresses (flannel programs them, nolearning)';
  return undefined;
}

/** The /32 on the device and nothing else, as flanneld leaves it (a changed podCIDR replaces the old one). */
async function ensureOnlyAddress(name: string, wanted: string): Promise<void> {
  const links = await hostJson<{ addr_info?: { family: string; local: string; prefixlen: number }[] }>(['ip', '-j', '-4', 'addr', 'show', 'dev', name], `reading ${name}'s addresses`);
  const present = (links[0]?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  for (const other of present.filter((a) => a !== wanted)) await hostDelete(['ip', 'addr', 'del', other, 'dev', name], `removing the stale address ${other} from ${name}`);
  if (!present.includes(wanted)) await hostCommand(['ip', 'addr', 'add', wanted, 'dev', name], `putting ${wanted} on ${name}`);
}
