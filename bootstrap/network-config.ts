import { NODE_LAYOUT } from '../cluster/node-layout';

/**
 * flannel's net-conf.json: the cluster's pod range, vxlan on the port the firewall matrix opens.
 * With --kube-subnet-mgr the masters choose each node's /24 (spec.podCIDR); flannel only checks
 * that it lies in Network.
 */
export function flannelNetworkConfig(podCidr: string): string {
  return `${JSON.stringify({ Network: podCidr, Backend: { Type: 'vxlan', VNI: 1, Port: NODE_LAYOUT.flannelVxlanPort } }, null, 2)}\n`;
}
