import type { Command } from 'commander';
import { DEFAULT_MAX_MUTATIONS_IN_FLIGHT, DEFAULT_MAX_READS_IN_FLIGHT } from '../../master/api/max-in-flight';
import { masterControllers } from '../../master/controllers/master-controllers';
import { CidrSet } from '../../master/controllers/node-ipam/cidr-set';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE } from '../../master/controllers/node-ipam/node-ipam-controller';
import { startMaster } from '../../master/server';
import { parseDuration } from '../../cluster/duration';

interface MasterFlags {
  dataDir: string;
  listen: string;
  alsoListen: string[];
  store?: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  advertiseAddress?: string;
  tlsSan: string[];
  serviceCidr: string;
  nodePortRange: string;
  nodeCredentialTtl: string;
  clusterCidr: string;
  nodeCidrMaskSize: string;
  allocateNodeCidrs: boolean;
  controllers: boolean;
  maxRequestsInflight: string;
  maxMutatingRequestsInflight: string;
}

/** A count flag: a whole number, 0 or more. */
function parseCount(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`${flag} "${value}" is not a whole number (0 turns the limit off)`);
  return Number(value);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerMaster(program: Command): void {
  program
    .command('master')
    .description('Run the API server, store, scheduler and controllers')
    .requiredOption('--data-dir <dir>', 'where the CA, tokens, kubeconfig and the embedded store live')
    .option('--listen <host:port>', 'address to serve HTTPS on', '0.0.0.0:6443')
    .option('--also-listen <host:port>', 'one more address to serve on, bound once it exists on this machine (repeatable; port 0 means --listen\'s)', collect, [])
    .option('--store <spec>', 'sqlite:PATH (default sqlite:DATA_DIR/state.db) or etcd://HOST:PORT[,HOST:PORT...]')
    .option('--etcd-ca <file>', 'CA of the etcd servers (switches etcd to https)')
    .option('--etcd-cert <file>', 'client certificate for etcd')
    .option('--etcd-key <file>', 'client key for etcd')
    .option('--advertise-address <ip>', 'address clients and agents use to reach this master')
    .option('--tls-san <name>', 'extra name or IP for the serving certificate (repeatable)', collect, [])
    .option('--service-cidr <cidr>', 'range ClusterIPs come from', '10.96.0.0/12')
    .option('--node-port-range <lo-hi>', 'range NodePorts come from', '30000-32767')
    .option('--cluster-cidr <cidr>', 'pod range each Node gets its spec.podCIDR from (what flannel --kube-subnet-mgr reads)', DEFAULT_CLUSTER_CIDR)
    .option('--node-cidr-mask-size <bits>', 'prefix length of each Node\'s podCIDR', String(DEFAULT_NODE_CIDR_MASK_SIZE))
    .option('--no-allocate-node-cidrs', 'leave spec.podCIDR of Nodes alone (the pod network allocates by itself)')
    .option('--node-credential-ttl <duration>', 'how long a node credential holds; agents renew theirs at 80% of it', '8760h')
    .option('--no-controllers', 'serve the API only (no scheduler or controllers)')
    .option('--max-requests-inflight <n>', 'reads answered at once before more wait, up to 1,000 for 10 s, then get 429 with Retry-After (system:masters exempt; 0 = no limit)', String(DEFAULT_MAX_READS_IN_FLIGHT))
    .option('--max-mutating-requests-inflight <n>', 'writes answered at once before more wait, up to 1,000 for 10 s, then get 429 with Retry-After (system:masters exempt; 0 = no limit)', String(DEFAULT_MAX_MUTATIONS_IN_FLIGHT))
    .action(async (flags: MasterFlags) => {
      const range = /^(\d+)-(\d+)$/.exec(flags.nodePortRange);
      if (!range) throw new Error(`--node-port-range "${flags.nodePortRange}" is not LOW-HIGH (for example 30000-32767)`);
      const podNetwork = { clusterCidr: flags.clusterCidr, nodeCidrMaskSize: Number(flags.nodeCidrMaskSize) };
      // Checked before the master starts, so a typo is a message, not a controller failing in a loop.
      if (flags.allocateNodeCidrs) new CidrSet(podNetwork.clusterCidr, podNetwork.nodeCidrMaskSize);
      const master = await startMaster({
        dataDir: flags.dataDir,
        listen: flags.listen,
        alsoListen: flags.alsoListen,
        store: flags.store,
        etcdCa: flags.etcdCa,
        etcdCert: flags.etcdCert,
        etcdKey: flags.etcdKey,
        advertiseAddress: flags.advertiseAddress,
        tlsSans: flags.tlsSan,
        serviceCidr: flags.serviceCidr,
        nodePortRange: [Number(range[1]), Number(range[2])],
        nodeCredentialTtlMs: parseDuration(flags.nodeCredentialTtl, '--node-credential-ttl'),
        maxInFlight: { maxReads: parseCount(flags.maxRequestsInflight, '--max-requests-inflight'), maxMutations: parseCount(flags.maxMutatingRequestsInflight, '--max-mutating-requests-inflight') },
        controllers: flags.controllers ? masterControllers({}, flags.allocateNodeCidrs ? podNetwork : undefined) : undefined,
      });
      process.stdout.write(`lotse master serving at ${master.url}\nkubeconfig: ${master.kubeconfigPath}\n`);
      const stop = async (): Promise<void> => {
        await master.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop());
      process.once('SIGINT', () => void stop());
    });
}
