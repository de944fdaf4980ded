import { stringify } from 'yaml';
import type { ClusterConfig, RaspberryPiConfig } from '../config/cluster-config';
import { SSH_USER } from '../ignition/node-ignition';

/** The bootstrap inventory (docs/design.md) for the Pis: `lotse bootstrap --inventory FILE`. */
export function piInventory(cluster: ClusterConfig, pi: RaspberryPiConfig): string {
  const document = {
    name: cluster.name,
    store: pi.store,
    ...(cluster.bootstrap.nodeRegistry ? { nodeRegistry: cluster.bootstrap.nodeRegistry } : {}),
    network: { podCidr: cluster.network.podCidr, serviceCidr: cluster.network.serviceCidr, dnsAddress: cluster.network.dnsAddress, clusterDomain: cluster.network.clusterDomain },
    hosts: pi.nodes.map((node) => ({ name: node.name, address: node.address, port: 22, user: SSH_USER, role: node.role, ...(cluster.bootstrap.identityFile ? { identityFile: cluster.bootstrap.identityFile } : {}) })),
  };
  return `# Written by the lotse raspberry-pi stack from cluster.yaml; regenerate rather than edit.\n${stringify(document)}`;
}
