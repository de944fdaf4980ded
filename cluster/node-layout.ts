/**
 * Where everything lives on a host: the contract between the Ignition units the stacks emit
 * (they wait for files here and start the services) and the bootstrap, which delivers the files
 * over SSH. Nothing here is a secret; the secrets only ever arrive at these paths later.
 */
export const NODE_LAYOUT = {
  /** The bundled lotse program (node script). */
  bundle: '/opt/lotse/lotse.js',
  /** The `lotse agent` command alone, which the agent's unit runs (payload/lotse-bundle.ts says why). */
  agentBundle: '/opt/lotse/lotse-agent.js',
  etcDir: '/etc/lotse',
  pkiDir: '/etc/lotse/pki',
  dataDir: '/var/lib/lotse',
  /** Non-secret, written by Ignition: which runtime the agent talks to. */
  runtimeEnv: '/etc/lotse/runtime.env',
  /** Written by the bootstrap, last of each role's files; its arrival starts the unit. */
  masterEnv: '/etc/lotse/master.env',
  agentEnv: '/etc/lotse/agent.env',
  etcdEnv: '/etc/lotse/etcd.env',
  flannelEnv: '/etc/lotse/flannel.env',
  /** The CA of the masters' etcd (masters only: nothing else talks to etcd). */
  etcdCa: '/etc/lotse/pki/etcd-ca.crt',
  /** flannel's network config (Network = the cluster's pod range, vxlan backend), from the bootstrap. */
  flannelNetConf: '/etc/lotse/flannel/net-conf.json',
  /** Written by the agent once joined: a kubeconfig acting as the node (flannel --kube-subnet-mgr uses it). */
  nodeKubeconfig: '/var/lib/lotse/agent/kubeconfig',
  /** The token the agent joins with, read by --token-file so it never shows on a command line. */
  joinTokenFile: '/etc/lotse/pki/join-token',
  /** Written by flannel, read by the agent (FLANNEL_SUBNET, FLANNEL_MTU). */
  subnetEnv: '/run/flannel/subnet.env',
  etcdDataDir: '/var/lib/etcd',
  // What only the bootstrap uses: its supervisor for hosts without the Ignition units, and its own state.
  optDir: '/opt/lotse',
  runDir: '/run/lotse',
  supervisor: '/opt/lotse/supervise.sh',
  runScript: (service: string): string => `/opt/lotse/run-${service}.sh`,
  masterDataDir: '/var/lib/lotse/master',
  agentDataDir: '/var/lib/lotse/agent',
  /** etcd's data where no Ignition unit runs it (the unit mounts /var/lib/etcd into its container). */
  fallbackEtcdDataDir: '/var/lib/lotse/etcd',
  logDir: '/var/lib/lotse/log',
  /** What the bootstrap applied last, per service, to tell "no change" from "restart". */
  stateDir: '/var/lib/lotse/bootstrap',
  staging: '/var/lib/lotse/bootstrap/staging',
  pidFile: (service: string): string => `/run/lotse/${service}.pid`,
  logFile: (service: string): string => `/var/lib/lotse/log/${service}.log`,
  apiPort: 6443,
  etcdClientPort: 2379,
  etcdPeerPort: 2380,
  /** flannel's vxlan backend: the IANA port, as the firewall matrix opens it. */
  flannelVxlanPort: 8472,
} as const;
