import type { ContainerEngine } from './container-engine';
import { containerUnit } from './container-unit';
import { NODE_LAYOUT as P } from '../../cluster/node-layout';

export const FLANNEL_SERVICE = 'lotse-flannel.service';
export const FLANNEL_VXLAN_PORT = P.flannelVxlanPort;
/** Where flanneld reads its network config by default; the bootstrap's file is mounted there. */
const NET_CONF_IN_CONTAINER = '/etc/kube-flannel/net-conf.json';

export interface FlannelUnitProps {
  readonly engine: ContainerEngine;
  readonly image: string;
  /**
   * Interface (name or address) flannel sends vxlan over. Default: FLANNELD_IFACE from flannel.env,
   * which the bootstrap sets to the machine's private address (no interface name is guessed).
   */
  readonly iface?: string;
}

/**
 * flanneld with the Kubernetes subnet manager, as clusters run it today: the masters give each
 * Node its spec.podCIDR and flanneld reads it (and publishes its VTEP on the Node) through the API
 * with the node's own credential, the kubeconfig the agent keeps beside its credential; no etcd of
 * its own, so SQLite clusters get the overlay too. flannel.env (from the bootstrap) sets NODE_NAME
 * and FLANNELD_IFACE, which flanneld reads itself; the unit waits for the agent's kubeconfig, so it
 * may start before the agent has joined. The lease lands in /run/flannel/subnet.env for the agent.
 */
export function flannelUnit(props: FlannelUnitProps): string {
  return containerUnit({
    engine: props.engine,
    description: 'flannel overlay network (vxlan over 8472/udp, subnets from the Kubernetes API)',
    container: 'lotse-flannel',
    image: props.image,
    entrypoint: '/opt/bin/flanneld',
    // As upstream's DaemonSet: not privileged, only what programming the overlay needs.
    capAdd: ['NET_ADMIN', 'NET_RAW'],
    envFile: P.flannelEnv,
    volumes: ['/run/flannel:/run/flannel', `${P.flannelNetConf}:${NET_CONF_IN_CONTAINER}:ro`, `${P.agentDataDir}:${P.agentDataDir}:ro`],
    requiresFiles: [P.flannelNetConf],
    execStartPre: [
      '/usr/sbin/modprobe vxlan',
      '/usr/bin/mkdir -p /run/flannel',
      // The agent writes the kubeconfig once it has joined; flannel acts as that node.
      `/bin/sh -c 'until [ -s ${P.nodeKubeconfig} ]; do sleep 1; done'`,
    ],
    args: [
      '--kube-subnet-mgr',
      `--kubeconfig-file=${P.nodeKubeconfig}`,
      `--net-config-path=${NET_CONF_IN_CONTAINER}`,
      `--subnet-file=${P.subnetEnv}`,
      '--ip-masq',
      ...(props.iface ? [`--iface=${props.iface}`] : []),
      '$FLANNEL_EXTRA_ARGS',
    ],
  });
}
