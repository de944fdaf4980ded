import { LOTSE_PATHS } from '../stacks/ignition/paths';

/**
 * Where things go on a host. The bundle, /etc/lotse/pki and the env files are the contract with
 * the Ignition units (stacks/ignition/paths.ts); the rest is the bootstrap's own.
 */
export const REMOTE = {
  ...LOTSE_PATHS,
  optDir: '/opt/lotse',
  runDir: '/run/lotse',
  nodeWrapper: '/opt/lotse/node',
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
} as const;
