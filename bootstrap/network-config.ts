import type { ClusterPki } from './cluster-pki';
import { FLANNEL_ETCD_PREFIX, NODE_LAYOUT } from '../cluster/node-layout';
import type { SshConnection } from './ssh-connection';
import { tunnelRequest } from './tunnel-http';

export const FLANNEL_CONFIG_KEY = `${FLANNEL_ETCD_PREFIX}/config`;

/** flannel's network config: the pod range, vxlan on the port the firewall matrix opens. */
export function flannelNetworkConfig(podCidr: string): string {
  return JSON.stringify({ Network: podCidr, SubnetLen: 24, Backend: { Type: 'vxlan', Port: 8472 } });
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/**
 * Writes flannel's config into etcd through etcd's JSON gateway (v3), over the SSH tunnel with the
 * masters' etcd client certificate. Returns false when the key already holds this value.
 */
export async function writeNetworkConfig(conn: SshConnection, pki: ClusterPki, podCidr: string): Promise<boolean> {
  const value = flannelNetworkConfig(podCidr);
  const tls = { port: NODE_LAYOUT.etcdClientPort, method: 'POST', ca: pki.etcdCa.certPem, cert: pki.etcdClient.certPem, key: pki.etcdClient.keyPem };
  const range = await tunnelRequest(conn, { ...tls, path: '/v3/kv/range', body: JSON.stringify({ key: b64(FLANNEL_CONFIG_KEY) }) });
  if (range.status !== 200) throw new Error(`reading ${FLANNEL_CONFIG_KEY} from etcd answered ${range.status}: ${range.body.slice(0, 200)}`);
  const kvs = (JSON.parse(range.body) as { kvs?: { value?: string }[] }).kvs ?? [];
  if (kvs[0]?.value && Buffer.from(kvs[0].value, 'base64').toString() === value) return false;
  const put = await tunnelRequest(conn, { ...tls, path: '/v3/kv/put', body: JSON.stringify({ key: b64(FLANNEL_CONFIG_KEY), value: b64(value) }) });
  if (put.status !== 200) throw new Error(`writing ${FLANNEL_CONFIG_KEY} into etcd answered ${put.status}: ${put.body.slice(0, 200)}`);
  return true;
}
