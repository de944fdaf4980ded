import type { ContainerEngine } from './container-engine';
import { containerUnit } from './container-unit';
import { FLANNEL_ETCD_PREFIX, NODE_LAYOUT as P } from '../../cluster/node-layout';

export const FLANNEL_SERVICE = 'lotse-flannel.service';
/** flannel's vxlan backend: the IANA port, as the firewall matrix opens it. */
export const FLANNEL_VXLAN_PORT = 8472;

export interface FlannelUnitProps {
  readonly engine: ContainerEngine;
  readonly image: string;
  /** Interface flannel sends vxlan over; default: the one with the default route. */
  readonly iface?: string;
}

/**
 * flanneld with the etcd backend on the masters' etcd over TLS. flannel.env and the client
 * certificate come from the bootstrap: flannel.env sets FLANNELD_ETCD_ENDPOINTS (flanneld reads
 * FLANNELD_<FLAG> variables itself; the env file is passed into the container) and may set
 * FLANNEL_EXTRA_ARGS. The subnet lease lands in /run/flannel/subnet.env where the agent reads it.
 */
export function flannelUnit(props: FlannelUnitProps): string {
  return containerUnit({
    engine: props.engine,
    description: 'flannel overlay network (vxlan over 8472/udp, etcd backend with TLS)',
    container: 'lotse-flannel',
    image: props.image,
    entrypoint: '/opt/bin/flanneld',
    privileged: true,
    envFile: P.flannelEnv,
    volumes: ['/run/flannel:/run/flannel', `${P.pkiDir}:${P.pkiDir}:ro`],
    requiresFiles: [P.etcdCa, P.flannelCert, P.flannelKey],
    execStartPre: ['/usr/sbin/modprobe vxlan', '/usr/bin/mkdir -p /run/flannel'],
    args: [
      `--etcd-prefix=${FLANNEL_ETCD_PREFIX}`,
      `--etcd-cafile=${P.etcdCa}`,
      `--etcd-certfile=${P.flannelCert}`,
      `--etcd-keyfile=${P.flannelKey}`,
      `--subnet-file=${P.subnetEnv}`,
      '--ip-masq',
      ...(props.iface ? [`--iface=${props.iface}`] : []),
      '$FLANNEL_EXTRA_ARGS',
    ],
  });
}
