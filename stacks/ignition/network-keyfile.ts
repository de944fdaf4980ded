/** A static IPv4 address, as NetworkManager's keyfile plugin reads it. */
export interface StaticAddressProps {
  /** Bind to this interface; default: any wired interface (a Pi has one). */
  readonly interface?: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly gateway: string;
  /** Resolvers; empty means the gateway resolves (home routers usually do). */
  readonly dns: readonly string[];
}

const DEFAULT_ID = 'lotse-wired';

export function keyfilePath(iface: string | undefined): string {
  return `/etc/NetworkManager/system-connections/${iface ?? DEFAULT_ID}.nmconnection`;
}

/** NetworkManager ignores keyfiles readable by others, hence mode 0600 where this is written. */
export function networkKeyfile(props: StaticAddressProps): string {
  const dns = props.dns.length > 0 ? props.dns : [props.gateway];
  return [
    '[connection]',
    `id=${props.interface ?? DEFAULT_ID}`,
    'type=ethernet',
    ...(props.interface ? [`interface-name=${props.interface}`] : []),
    'autoconnect=true',
    '',
    '[ipv4]',
    'method=manual',
    `address1=${props.address}/${props.prefixLength},${props.gateway}`,
    `dns=${dns.join(';')};`,
    'may-fail=false',
    '',
    // Cluster traffic (vxlan, etcd, the API) is IPv4; router advertisements would only add routes to reason about.
    '[ipv6]',
    'method=disabled',
    '',
  ].join('\n');
}
