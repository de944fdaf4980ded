import type { ContainerEngine } from './container-engine';
import { containerUnit } from './container-unit';
import { NODE_LAYOUT as P } from '../../cluster/node-layout';

export const ETCD_SERVICE = 'lotse-etcd.service';

/**
 * etcd on a master. Its whole configuration (ETCD_NAME, ETCD_INITIAL_CLUSTER, listen URLs and
 * the TLS file paths under /etc/lotse/pki) is etcd.env, written by the bootstrap, because the
 * peers' addresses and certificates only exist once every machine does.
 */
export function etcdUnit(engine: ContainerEngine, image: string): string {
  return containerUnit({
    engine,
    description: 'etcd for the lotse masters and flannel (client 2379, peers 2380, TLS)',
    container: 'lotse-etcd',
    image,
    entrypoint: '/usr/local/bin/etcd',
    envFile: P.etcdEnv,
    environment: { ETCD_DATA_DIR: P.etcdDataDir },
    volumes: [`${P.etcdDataDir}:${P.etcdDataDir}`, `${P.pkiDir}:${P.pkiDir}:ro`],
    execStartPre: [`/usr/bin/mkdir -p ${P.etcdDataDir}`],
    args: [],
  });
}
