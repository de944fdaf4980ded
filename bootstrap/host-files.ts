import type { Bundle } from '../payload/lotse-bundle';
import type { HostFacts } from './host-facts';
import { apiEndpoint, type Inventory, type InventoryHost } from './inventory';
import type { NodeRuntime } from './node-runtime';
import type { ClusterPki } from './cluster-pki';
import { NODE_LAYOUT } from '../cluster/node-layout';
import { flannelNetworkConfig } from './network-config';
import { renderEnvFile } from './env-file';
import { runScript, SUPERVISOR_SCRIPT, type ServiceName } from './service-scripts';

export interface HostFile {
  path: string;
  content: string | Buffer;
  mode: number;
}

/** What one host gets: files installed up front, and each service's env file (written when it starts). */
export interface HostPlan {
  files: HostFile[];
  services: Map<ServiceName, HostFile>;
}

const CERT = 0o644;
const SECRET = 0o600;

export interface PlanInput {
  inventory: Inventory;
  host: InventoryHost;
  facts: HostFacts;
  node: NodeRuntime;
  pki: ClusterPki;
  bundle: Bundle;
}

/** Only what this host needs: a worker never sees the CA key, the tokens or etcd's certificates. */
export function planHost(input: PlanInput): HostPlan {
  const { inventory, host, pki, bundle, node } = input;
  const isMaster = host.role === 'master';
  const files: HostFile[] = [
    { path: NODE_LAYOUT.bundle, content: bundle.content, mode: 0o755 },
    { path: NODE_LAYOUT.agentBundle, content: bundle.agent.content, mode: 0o755 },
    { path: NODE_LAYOUT.supervisor, content: SUPERVISOR_SCRIPT, mode: 0o755 },
    { path: `${NODE_LAYOUT.pkiDir}/ca.crt`, content: pki.ca.certPem, mode: CERT },
    { path: NODE_LAYOUT.flannelNetConf, content: flannelNetworkConfig(inventory.network.podCidr), mode: CERT },
    { path: NODE_LAYOUT.joinTokenFile, content: `${pki.tokens.join}\n`, mode: SECRET },
    { path: NODE_LAYOUT.runScript('agent'), content: runScript('agent', input.facts), mode: 0o755 },
    { path: NODE_LAYOUT.runScript('flannel'), content: runScript('flannel', input.facts), mode: 0o755 },
  ];
  const services = new Map<ServiceName, HostFile>();
  const masters = inventory.hosts.filter((h) => h.role === 'master');
  const etcdEndpoints = masters.map((m) => `https://${m.privateAddress}:${NODE_LAYOUT.etcdClientPort}`).join(',');
  if (isMaster) {
    const dd = NODE_LAYOUT.masterDataDir;
    files.push(
      { path: `${dd}/ca.crt`, content: pki.ca.certPem, mode: CERT },
      { path: `${dd}/ca.key`, content: pki.ca.keyPem, mode: SECRET },
      { path: `${dd}/apiserver.crt`, content: pki.apiserver.certPem, mode: CERT },
      { path: `${dd}/apiserver.key`, content: pki.apiserver.keyPem, mode: SECRET },
      { path: `${dd}/tokens.json`, content: JSON.stringify(pki.tokens, null, 2) + '\n', mode: SECRET },
      { path: NODE_LAYOUT.runScript('master'), content: runScript('master', input.facts), mode: 0o755 },
    );
    if (inventory.store === 'etcd') {
      const peer = pki.etcdPeers.get(host.name);
      if (!peer) throw new Error(`no etcd certificate for master ${host.name}`);
      files.push(
        { path: NODE_LAYOUT.etcdCa, content: pki.etcdCa.certPem, mode: CERT },
        { path: `${NODE_LAYOUT.pkiDir}/etcd-server.crt`, content: peer.certPem, mode: CERT },
        { path: `${NODE_LAYOUT.pkiDir}/etcd-server.key`, content: peer.keyPem, mode: SECRET },
        { path: `${NODE_LAYOUT.pkiDir}/etcd-client.crt`, content: pki.etcdClient.certPem, mode: CERT },
        { path: `${NODE_LAYOUT.pkiDir}/etcd-client.key`, content: pki.etcdClient.keyPem, mode: SECRET },
        { path: NODE_LAYOUT.runScript('etcd'), content: runScript('etcd', input.facts), mode: 0o755 },
      );
      services.set('etcd', etcdEnvFile(inventory.name, host, formation(masters)));
    }
    services.set('master', { path: NODE_LAYOUT.masterEnv, content: masterEnv(inventory, host, node, etcdEndpoints), mode: SECRET });
  }
  const podNetwork = hasPodNetwork(input.facts);
  // flanneld reads FLANNELD_<FLAG> itself: the node it acts as, and the private address it sends vxlan from.
  if (podNetwork) services.set('flannel', { path: NODE_LAYOUT.flannelEnv, content: renderEnvFile({ NODE_NAME: host.name, FLANNELD_IFACE: host.privateAddress }), mode: SECRET });
  services.set('agent', { path: NODE_LAYOUT.agentEnv, content: agentEnv(inventory, host, node, masters, podNetwork), mode: SECRET });
  return { files, services };
}

/**
 * How an etcd member finds its cluster on its first start (etcd ignores both once it has a data
 * dir): `new` with every member when the masters form the cluster together, `existing` with the
 * current members when it joins one that runs (bootstrap/etcd-membership.ts decides which).
 */
export interface EtcdInitialCluster {
  state: 'new' | 'existing';
  /** NAME=PEER_URL,... as ETCD_INITIAL_CLUSTER takes it. */
  members: string;
}

/** The peer URL a master's etcd advertises, as etcd's member list shows it. */
export function etcdPeerUrl(host: InventoryHost): string {
  return `https://${host.privateAddress}:${NODE_LAYOUT.etcdPeerPort}`;
}

/** A brand-new cluster: every master in the inventory forms it at once. */
export function formation(masters: InventoryHost[]): EtcdInitialCluster {
  return { state: 'new', members: masters.map((m) => `${m.name}=${etcdPeerUrl(m)}`).join(',') };
}

export function etcdEnvFile(cluster: string, host: InventoryHost, initial: EtcdInitialCluster): HostFile {
  return { path: NODE_LAYOUT.etcdEnv, content: etcdEnv(cluster, host, initial), mode: SECRET };
}

function etcdEnv(cluster: string, host: InventoryHost, initial: EtcdInitialCluster): string {
  const pki = NODE_LAYOUT.pkiDir;
  const vars: Record<string, string> = {
    ETCD_NAME: host.name,
    ETCD_INITIAL_CLUSTER: initial.members,
    ETCD_INITIAL_CLUSTER_STATE: initial.state,
    ETCD_INITIAL_CLUSTER_TOKEN: `lotse-${cluster}`,
    ETCD_INITIAL_ADVERTISE_PEER_URLS: etcdPeerUrl(host),
    ETCD_ADVERTISE_CLIENT_URLS: `https://${host.privateAddress}:${NODE_LAYOUT.etcdClientPort}`,
    ETCD_LISTEN_CLIENT_URLS: `https://0.0.0.0:${NODE_LAYOUT.etcdClientPort}`,
    ETCD_LISTEN_PEER_URLS: `https://0.0.0.0:${NODE_LAYOUT.etcdPeerPort}`,
    ETCD_CERT_FILE: `${pki}/etcd-server.crt`,
    ETCD_KEY_FILE: `${pki}/etcd-server.key`,
    ETCD_TRUSTED_CA_FILE: NODE_LAYOUT.etcdCa,
    ETCD_CLIENT_CERT_AUTH: 'true',
    ETCD_PEER_CERT_FILE: `${pki}/etcd-server.crt`,
    ETCD_PEER_KEY_FILE: `${pki}/etcd-server.key`,
    ETCD_PEER_TRUSTED_CA_FILE: NODE_LAYOUT.etcdCa,
    ETCD_PEER_CLIENT_CERT_AUTH: 'true',
  };
  return renderEnvFile(vars);
}

function masterEnv(inv: Inventory, host: InventoryHost, node: NodeRuntime, etcdEndpoints: string): string {
  const sans = [...new Set([host.name, host.address, host.privateAddress, ...[apiEndpoint(inv)?.host].filter((h): h is string => h !== undefined)])];
  const store =
    inv.store === 'etcd'
      ? `--store etcd://${etcdEndpoints.replace(/https:\/\//g, '')} --etcd-ca ${NODE_LAYOUT.etcdCa} --etcd-cert ${NODE_LAYOUT.pkiDir}/etcd-client.crt --etcd-key ${NODE_LAYOUT.pkiDir}/etcd-client.key`
      : '--store sqlite'; // the master's default file in its --data-dir
  const args = [`--data-dir ${NODE_LAYOUT.masterDataDir}`, `--listen 0.0.0.0:${NODE_LAYOUT.apiPort}`, `--advertise-address ${host.privateAddress}`, ...sans.map((s) => `--tls-san ${s}`), `--service-cidr ${inv.network.serviceCidr}`, `--cluster-cidr ${inv.network.podCidr}`, store];
  return renderEnvFile({ LOTSE_NODE: node.node, LOTSE_MASTER_ARGS: args.join(' ') });
}

/** Whether flannel runs here: the stack's Ignition unit, or a flanneld the bootstrap can supervise. */
export function hasPodNetwork(facts: HostFacts): boolean {
  return facts.flannelUnit === true || facts.flanneld !== undefined;
}

/**
 * Every master, so the agent moves to another when the one it uses goes down. Where flannel runs,
 * the agent starts no pod and reports NotReady until flannel's subnet file is there, as a kubelet
 * waits for its CNI: pods never land on the engine's default network.
 */
function agentEnv(inv: Inventory, host: InventoryHost, node: NodeRuntime, masters: InventoryHost[], podNetwork: boolean): string {
  const args = [
    `--server ${masters.map((m) => `https://${m.privateAddress}:${NODE_LAYOUT.apiPort}`).join(',')}`,
    `--token-file ${NODE_LAYOUT.joinTokenFile}`,
    `--ca-file ${NODE_LAYOUT.pkiDir}/ca.crt`,
    `--node-name ${host.name}`,
    `--data-dir ${NODE_LAYOUT.agentDataDir}`,
    `--address ${host.privateAddress}`,
    ...(inv.agent.runtime ? [`--runtime ${inv.agent.runtime}`] : []),
    `--cluster-dns-address ${inv.network.dnsAddress}`,
    `--cluster-domain ${inv.network.clusterDomain}`,
    ...(podNetwork ? ['--wait-for-pod-network'] : []),
  ];
  return renderEnvFile({ LOTSE_NODE: node.node, LOTSE_DNS_ADDRESS: inv.network.dnsAddress, LOTSE_AGENT_ARGS: args.join(' ') });
}
