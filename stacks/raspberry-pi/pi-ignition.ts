import type { ClusterConfig, PiNode, RaspberryPiConfig } from '../config/cluster-config';
import type { IgnitionBuilder } from '../ignition/builder';
import { keyfilePath, networkKeyfile } from '../ignition/network-keyfile';
import { nodeIgnition } from '../ignition/node-ignition';

/** A Pi's settings with the raspberryPi.network defaults applied. */
export interface ResolvedPiNode extends PiNode {
  readonly prefixLength: number;
  readonly gateway: string;
  readonly dns: readonly string[];
}

export function resolvePiNode(pi: RaspberryPiConfig, node: PiNode): ResolvedPiNode {
  return {
    ...node,
    interface: node.interface ?? pi.network.interface,
    prefixLength: node.prefixLength ?? pi.network.prefixLength,
    gateway: (node.gateway ?? pi.network.gateway)!, // validate.ts requires one of them
    dns: node.dns ?? pi.network.dns,
  };
}

/**
 * One Pi's Ignition for Fedora CoreOS aarch64: the shared node config plus what a Pi on a home
 * network needs. A static address (NetworkManager keyfile) because the bootstrap and the other
 * nodes must find it at the address cluster.yaml names, DHCP or not. The Fedora kernel enables the
 * memory cgroup; the kernel argument guard only removes a `cgroup_disable=memory` that firmware or
 * a copied command line may carry (Raspberry Pi OS habits), and the preflight unit checks it.
 */
export function piIgnition(cluster: ClusterConfig, node: ResolvedPiNode): IgnitionBuilder {
  return nodeIgnition({
    hostname: node.name,
    role: node.role,
    os: 'fedora-coreos',
    sshAuthorizedKeys: cluster.sshAuthorizedKeys,
    images: cluster.images,
    rebootWindow: cluster.updates.rebootWindow,
    // flanneld accepts an address for --iface, which holds whatever the kernel names the port.
    flannelInterface: node.interface ?? node.address,
  })
    .file(keyfilePath(node.interface), networkKeyfile({ ...node }), { mode: 0o600 })
    .kernelArgument('cgroup_disable=memory', false);
}
