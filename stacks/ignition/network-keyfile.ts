/** A static IPv4 address for one interface, as NetworkManager's keyfile plugin reads it. */
export interface StaticAddressProps {
  readonly interface: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly gateway: string;
  /** Resolvers; empty means the gateway resolves (home routers usually do). */
  readonly dns: readonly string[];
}

export function keyfilePath(iface: string): string {
  return `/etc/NetworkManager/system-connections/${iface}.nmconnection`;
}

/** NetworkManager ignores keyfiles readable by others, hence mode 0600 where this is written. */
export function networkKeyfile(props: StaticAddressProps): string {
  const dns = props.dns.length > 0 ? props.dns : [props.gateway];
  return [
    '[connection]',
    `id=${props.interface}`,
    'type=ethernet',
    `interface-name=${props.interface}`,
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
