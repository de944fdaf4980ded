import { readFileSync } from 'node:fs';
import { parseCidr, type Cidr } from '../../stacks/config/cidr';

/** flanneld's vxlan defaults: VNI 1 on the IANA port, which the firewall matrix opens. */
const VXLAN_DEFAULTS = { vni: 1, port: 8472 } as const;

/** flanneld's net-conf.json, reduced to what kube-subnet-mgr mode with the vxlan backend reads. */
export interface NetConf {
  /** The cluster pod network, e.g. 10.244.0.0/16 (FLANNEL_NETWORK). */
  readonly network: Cidr;
  readonly vni: number;
  readonly port: number;
}

/** vxlan backend options that change behaviour the stand-in does not implement. */
const UNSUPPORTED_BACKEND_OPTIONS = ['DirectRouting', 'GBP', 'Learning', 'MacPrefix', 'MTU'];

export function readNetConf(path: string): NetConf {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the network config ${path} (--net-config-path): ${(err as Error).message}`);
  }
  return parseNetConf(text, path);
}

/**
 * Validates the config as flanneld would before starting, and refuses what is not stood in: a
 * backend other than vxlan (flanneld's default, when Backend is absent, is udp), IPv6, and
 * vxlan options beyond VNI and Port.
 */
export function parseNetConf(text: string, path: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw new Error(`${path} must hold a JSON object like {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}`);
  if (raw.EnableIPv6 === true) throw new Error(`${path} sets EnableIPv6: only IPv4 is stood in`);
  if (raw.EnableIPv4 === false) throw new Error(`${path} sets EnableIPv4 false: only IPv4 is stood in`);
  if (typeof raw.Network !== 'string') throw new Error(`${path} has no "Network" (the cluster pod network, e.g. "10.244.0.0/16")`);
  const network = parseCidr(raw.Network.trim());
  if (!network) throw new Error(`${path}: Network "${raw.Network}" is not an IPv4 CIDR with zero host bits`);
  const backend = raw.Backend;
  if (backend !== undefined && !isObject(backend)) throw new Error(`${path}: Backend must be an object like {"Type": "vxlan"}`);
  const type = backend?.Type;
  if (type === undefined) throw new Error(`${path} sets no Backend.Type, which flanneld takes as "udp": only the vxlan backend is stood in; set "Backend": {"Type": "vxlan"}`);
  if (typeof type !== 'string' || type.toLowerCase() !== 'vxlan') throw new Error(`${path}: backend type "${String(type)}" is not stood in; only "vxlan" is`);
  for (const option of UNSUPPORTED_BACKEND_OPTIONS) {
    const v = backend?.[option];
    if (v !== undefined && v !== false && v !== 0 && v !== '') throw new Error(`${path}: vxlan option Backend.${option} is not stood in (remove it)`);
  }
  return { network, vni: integerOption(backend, 'VNI', VXLAN_DEFAULTS.vni, 1, 2 ** 24 - 1, path), port: integerOption(backend, 'Port', VXLAN_DEFAULTS.port, 1, 65535, path) };
}

function integerOption(backend: Record<string, unknown> | undefined, key: string, fallback: number, min: number, max: number, path: string): number {
  const v = backend?.[key];
  // flanneld treats 0 as "not set".
  if (v === undefined || v === 0) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${path}: Backend.${key} must be an integer from ${min} to ${max}, not ${JSON.stringify(v)}`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
