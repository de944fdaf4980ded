import type { Node } from 'kubernetes-types/core/v1';
import type { ClusterPki } from './cluster-pki';
import { NODE_LAYOUT } from '../cluster/node-layout';
import type { SshConnection } from './ssh-connection';
import { tunnelRequest } from './tunnel-http';

/** etcd on this master answers /health with {"health":"true"}; undefined until then. */
export async function etcdHealthy(conn: SshConnection, pki: ClusterPki): Promise<true | undefined> {
  const r = await tunnelRequest(conn, { port: NODE_LAYOUT.etcdClientPort, path: '/health', ca: pki.etcdCa.certPem, cert: pki.etcdClient.certPem, key: pki.etcdClient.keyPem });
  if (r.status === 200 && /"health":\s*"true"/.test(r.body)) return true;
  throw new Error(`etcd /health answered ${r.status}: ${r.body.slice(0, 200)}`);
}

/** The master on this host answers /readyz. */
export async function apiReady(conn: SshConnection, pki: ClusterPki): Promise<true | undefined> {
  const r = await tunnelRequest(conn, { port: NODE_LAYOUT.apiPort, path: '/readyz', ca: pki.ca.certPem, headers: { authorization: `Bearer ${pki.tokens.admin}` } });
  if (r.status === 200) return true;
  throw new Error(`/readyz answered ${r.status}: ${r.body.slice(0, 200)}`);
}

/** Names of the nodes whose Ready condition is True. */
export async function readyNodes(conn: SshConnection, pki: ClusterPki): Promise<Set<string>> {
  const r = await tunnelRequest(conn, { port: NODE_LAYOUT.apiPort, path: '/api/v1/nodes', ca: pki.ca.certPem, headers: { authorization: `Bearer ${pki.tokens.admin}` } });
  if (r.status !== 200) throw new Error(`GET /api/v1/nodes answered ${r.status}: ${r.body.slice(0, 200)}`);
  const nodes = (JSON.parse(r.body) as { items: Node[] }).items;
  return new Set(nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name ?? ''));
}

/** The renewTime of the node's Lease in kube-node-lease (what its agent writes every 10 s), or undefined without one. */
export async function leaseRenewTime(conn: SshConnection, pki: ClusterPki, node: string): Promise<string | undefined> {
  const r = await tunnelRequest(conn, { port: NODE_LAYOUT.apiPort, path: `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(node)}`, ca: pki.ca.certPem, headers: { authorization: `Bearer ${pki.tokens.admin}` } });
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET the Lease of ${node} answered ${r.status}: ${r.body.slice(0, 200)}`);
  return (JSON.parse(r.body) as { spec?: { renewTime?: string } }).spec?.renewTime;
}
