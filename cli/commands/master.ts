import type { Command } from 'commander';
import { masterControllers } from '../../master/controllers/master-controllers';
import { startMaster } from '../../master/server';

interface MasterFlags {
  dataDir: string;
  listen: string;
  store?: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  advertiseAddress?: string;
  tlsSan: string[];
  serviceCidr: string;
  nodePortRange: string;
  controllers: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerMaster(program: Command): void {
  program
    .command('master')
    .description('Run the API server, store, scheduler and controllers')
    .requiredOption('--data-dir <dir>', 'where the CA, tokens, kubeconfig and the embedded store live')
    .option('--listen <host:port>', 'address to serve HTTPS on', '0.0.0.0:6443')
    .option('--store <spec>', 'sqlite:PATH (default sqlite:DATA_DIR/state.db) or etcd://HOST:PORT[,HOST:PORT...]')
    .option('--etcd-ca <file>', 'CA of the etcd servers (switches etcd to https)')
    .option('--etcd-cert <file>', 'client certificate for etcd')
    .option('--etcd-key <file>', 'client key for etcd')
    .option('--advertise-address <ip>', 'address clients and agents use to reach this master')
    .option('--tls-san <name>', 'extra name or IP for the serving certificate (repeatable)', collect, [])
    .option('--service-cidr <cidr>', 'range ClusterIPs come from', '10.96.0.0/12')
    .option('--node-port-range <lo-hi>', 'range NodePorts come from', '30000-32767')
    .option('--no-controllers', 'serve the API only (no scheduler or controllers)')
    .action(async (flags: MasterFlags) => {
      const range = /^(\d+)-(\d+)$/.exec(flags.nodePortRange);
      if (!range) throw new Error(`--node-port-range "${flags.nodePortRange}" is not LOW-HIGH (for example 30000-32767)`);
      const master = await startMaster({
        dataDir: flags.dataDir,
        listen: flags.listen,
        store: flags.store,
        etcdCa: flags.etcdCa,
        etcdCert: flags.etcdCert,
        etcdKey: flags.etcdKey,
        advertiseAddress: flags.advertiseAddress,
        tlsSans: flags.tlsSan,
        serviceCidr: flags.serviceCidr,
        nodePortRange: [Number(range[1]), Number(range[2])],
        controllers: flags.controllers ? masterControllers() : undefined,
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
