/**
 * Kernel modules and sysctls flannel's vxlan backend and pod networking need:
 * bridged traffic must pass iptables (br_netfilter), packets must be forwarded between pods and
 * the overlay, and strict reverse-path filtering drops vxlan-decapsulated replies.
 */
export const KERNEL_MODULES = ['br_netfilter', 'overlay', 'vxlan'] as const;

export const SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  ['net.ipv4.ip_forward', '1'],
  ['net.bridge.bridge-nf-call-iptables', '1'],
  ['net.bridge.bridge-nf-call-ip6tables', '1'],
  // Loose mode (2): accept a packet if any route leads back to its source, as vxlan needs.
  ['net.ipv4.conf.all.rp_filter', '2'],
  ['net.ipv4.conf.default.rp_filter', '2'],
];

export function modulesLoadFile(): string {
  return `# lotse: loaded at boot for flannel (vxlan) and pod bridges\n${KERNEL_MODULES.join('\n')}\n`;
}

/** The bridge keys exist only once br_netfilter is loaded: `-` lets systemd-sysctl skip them on a kernel without it. */
export function sysctlFile(): string {
  return `# lotse: pod networking\n${SYSCTLS.map(([k, v]) => `${k.startsWith('net.bridge.') ? '-' : ''}${k} = ${v}`).join('\n')}\n`;
}
