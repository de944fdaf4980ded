/**
 * Where the bootstrap delivers files over SSH, and what the Ignition units wait for.
 * This is the contract between stacks/ (boot-time units) and bootstrap/ (delivery); nothing
 * here is a secret, the secrets only ever arrive at these paths later.
 */
export const LOTSE_PATHS = {
  /** The bundled lotse program (node script). */
  bundle: '/opt/lotse/lotse.js',
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
  /** Client certificate flannel presents to the masters' etcd. */
  etcdCa: '/etc/lotse/pki/etcd-ca.crt',
  flannelCert: '/etc/lotse/pki/flannel.crt',
  flannelKey: '/etc/lotse/pki/flannel.key',
  /** Written by flannel, read by the agent (FLANNEL_SUBNET, FLANNEL_MTU). */
  subnetEnv: '/run/flannel/subnet.env',
  etcdDataDir: '/var/lib/etcd',
} as const;

/** Key prefix in etcd where the bootstrap writes flannel's network config (`<prefix>/config`). */
export const FLANNEL_ETCD_PREFIX = '/lotse/network';
