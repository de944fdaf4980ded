/** The flanneld flags the stand-in understands, as flanneld's DaemonSet and unit pass them. */
export interface FlanneldFlags {
  readonly kubeconfigFile: string;
  readonly subnetFile: string;
  readonly netConfPath: string;
  /** --iface, in the order given (flanneld takes the first that exists); empty: the default route's. */
  readonly ifaces: readonly string[];
  readonly publicIp?: string;
  readonly ipMasq: boolean;
  /** flanneld marks its Node NetworkUnavailable=False once the network is up (default on). */
  readonly setNodeNetworkUnavailable: boolean;
}

export const DEFAULT_SUBNET_FILE = '/run/flannel/subnet.env';
export const DEFAULT_NET_CONF_PATH = '/etc/kube-flannel/net-conf.json';

type FlagKind = 'bool' | 'string' | 'strings';

const FLAGS: Record<string, FlagKind> = {
  'kube-subnet-mgr': 'bool',
  'kubeconfig-file': 'string',
  'subnet-file': 'string',
  'net-config-path': 'string',
  iface: 'strings',
  'public-ip': 'string',
  'ip-masq': 'bool',
  'set-node-network-unavailable': 'bool',
  // Accepted and ignored: the server comes from the kubeconfig.
  'kube-api-url': 'string',
};

export const FLANNELD_USAGE = `flanneld stand-in (kube-subnet-mgr mode, vxlan backend only). Flags, as flanneld's:
  --kube-subnet-mgr                 required: subnets come from each Node's spec.podCIDR
  --kubeconfig-file=PATH            required: kubeconfig with server, CA and token or tokenFile
  --subnet-file=PATH                default ${DEFAULT_SUBNET_FILE}
  --net-config-path=PATH            default ${DEFAULT_NET_CONF_PATH}
  --iface=NAME|ADDR                 repeatable; default: the interface of the default route
  --public-ip=ADDR                  default: the interface's first IPv4 address
  --ip-masq                         masquerade pod traffic leaving the pod network (nft table lotse-flannel)
  --set-node-network-unavailable    default true: set the Node's NetworkUnavailable=False once up
  --kube-api-url=URL                ignored (the kubeconfig names the server)
Environment: NODE_NAME (required); FLANNELD_<FLAG> for a flag not given (FLANNELD_IFACE=ADDR).`;

/** flanneld was asked for its usage (-h/--help) rather than to run. */
export class UsageRequested extends Error {
  constructor() {
    super(FLANNELD_USAGE);
    this.name = 'UsageRequested';
  }
}

const BOOL_VALUES: Record<string, boolean> = { '1': true, t: true, true: true, '0': false, f: false, false: false };

/**
 * Parses flanneld's command line as Go's flag package does: -flag or --flag, `--flag=value` or
 * `--flag value` (booleans only in the `=` form), the last of a repeated flag wins except --iface, which collects. Anything else is refused,
 * naming the flag, so a DaemonSet relying on behaviour that is not stood in fails loudly.
 */
export function parseFlanneldFlags(argv: readonly string[], env: NodeJS.ProcessEnv = {}): FlanneldFlags {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help' || arg === '-help') throw new UsageRequested();
    const m = /^--?([^=-][^=]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new Error(`flanneld takes no arguments, only flags; got "${arg}"`);
    const [, name, inline] = m;
    const kind = FLAGS[name];
    if (!kind) throw new Error(`unknown flag --${name}: the flanneld stand-in accepts only ${Object.keys(FLAGS).map((f) => `--${f}`).join(', ')}`);
    let value = inline;
    if (value === undefined && kind === 'bool') value = 'true';
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new Error(`flag --${name} needs a value (--${name}=VALUE)`);
      value = argv[++i];
    }
    if (kind === 'bool' && BOOL_VALUES[value.toLowerCase()] === undefined) throw new Error(`flag --${name} is a boolean; "${value}" is not true or false`);
    // Repeated flags: the last wins, as in Go's flag package; --iface collects.
    values.set(name, kind === 'strings' ? [...(values.get(name) ?? []), value] : [value]);
  }
  // As flanneld: a flag not on the command line is read from FLANNELD_<FLAG> (FLANNELD_IFACE, ...).
  for (const [name, kind] of Object.entries(FLAGS)) {
    const fromEnv = env[`FLANNELD_${name.toUpperCase().replace(/-/g, '_')}`];
    if (fromEnv === undefined || fromEnv === '' || values.has(name)) continue;
    if (kind === 'bool' && BOOL_VALUES[fromEnv.toLowerCase()] === undefined) throw new Error(`FLANNELD_${name.toUpperCase().replace(/-/g, '_')} is a boolean; "${fromEnv}" is not true or false`);
    values.set(name, [fromEnv]);
  }
  return toFlags(values);
}

function toFlags(values: Map<string, string[]>): FlanneldFlags {
  const one = (name: string): string | undefined => values.get(name)?.[0];
  const bool = (name: string, fallback: boolean): boolean => {
    const v = one(name);
    return v === undefined ? fallback : BOOL_VALUES[v.toLowerCase()];
  };
  if (!bool('kube-subnet-mgr', false)) {
    throw new Error('only kube-subnet-mgr mode is stood in: run with --kube-subnet-mgr (subnets from each Node\'s spec.podCIDR); the etcd subnet manager is not');
  }
  const kubeconfigFile = one('kubeconfig-file');
  if (!kubeconfigFile) throw new Error('--kubeconfig-file=PATH is required by the stand-in (it does not run in a pod, so there is no in-cluster service account)');
  return {
    kubeconfigFile,
    subnetFile: one('subnet-file') ?? DEFAULT_SUBNET_FILE,
    netConfPath: one('net-config-path') ?? DEFAULT_NET_CONF_PATH,
    ifaces: values.get('iface') ?? [],
    publicIp: one('public-ip'),
    ipMasq: bool('ip-masq', false),
    setNodeNetworkUnavailable: bool('set-node-network-unavailable', true),
  };
}
