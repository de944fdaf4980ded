import fs from 'node:fs';
import os from 'node:os';
import { Option, type Command } from 'commander';
import { startAgent, type RunningAgent } from '../../agent/agent';
import { FLANNEL_SUBNET_FILE } from '../../agent/network/flannel';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { ENGINE_SOCKET_ORDER, ENGINE_SOCKETS, resolveEndpoint } from '../../agent/runtime/endpoint';
import type { ContainerRuntime } from '../../agent/runtime/container-runtime';
import type { ProxyMode } from '../../agent/proxy/service-proxy';

interface AgentFlags {
  server: string;
  token?: string;
  tokenFile?: string;
  caFile: string;
  nodeName?: string;
  dataDir: string;
  runtime?: 'docker' | 'podman' | 'fake';
  runtimeEndpoint?: string;
  hollowNodes?: string;
  proxyMode: string;
  clusterDnsAddress?: string;
  clusterDomain: string;
  ingressHttpPort: string;
  ingressHttpsPort: string;
  ingressAddress: string;
  podNetworkFile: string;
  waitForPodNetwork: boolean;
  address?: string[];
  kubeletPort: string;
  pauseImage?: string;
  restartBackoff: string;
  leaseInterval: string;
  startConcurrency: string;
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('Run the node agent: join the cluster, register this node, run its pods through docker or podman')
    .requiredOption('--server <url>', 'the master, https://HOST:6443, or every master comma-separated (the agent moves to the next when one cannot be reached)')
    .option('--token <token>', "the cluster's join token (DATA/join-token on the master); visible in ps: prefer --token-file")
    .option('--token-file <file>', 'a file holding the join token (readable by root only)')
    .requiredOption('--ca-file <file>', "the cluster CA certificate (DATA/ca.crt on the master)")
    .option('--node-name <name>', 'name of this node (default: the host name)')
    .option('--data-dir <dir>', 'where the agent keeps its credentials and pod volumes', '/var/lib/lotse/agent')
    .option('--runtime <kind>', 'docker | podman | fake (default: whichever engine socket is found)')
    .option('--runtime-endpoint <url>', `engine socket, unix:///PATH (default: ${ENGINE_SOCKET_ORDER.join(', ')} or $DOCKER_HOST)`)
    .option('--address <ip...>', 'InternalIP to report (default: the first non-loopback IPv4)')
    .option('--kubelet-port <port>', 'port of the logs/exec server the master connects to', '10250')
    .option('--pause-image <image>', 'image of the per-pod infra container (default: built on the node)')
    .option('--restart-backoff <seconds>', 'first CrashLoopBackOff delay, doubling up to 300 s', '10')
    .addOption(new Option('--lease-interval <seconds>', 'Lease renewal period (tests shorten it)').default('10').hideHelp())
    .addOption(new Option('--start-concurrency <n>', 'pods that may change their containers at once').default('3').hideHelp())
    .option('--hollow-nodes <n>', 'run N fake nodes in this process for scale tests (implies --runtime fake)')
    .option('--proxy-mode <mode>', 'service proxy: auto (nftables where it works, else userspace), kernel, userspace or none (one per host)', 'auto')
    .option('--cluster-dns-address <ip>', 'serve cluster DNS on this address (the pod bridge gateway, e.g. 10.88.0.1 with podman) and give ClusterFirst pods its resolv.conf')
    .option('--cluster-domain <domain>', 'the cluster DNS domain', 'cluster.local')
    .option('--ingress-http-port <port>', 'serve the cluster\'s Ingresses over HTTP on this port (0: not at all)', '80')
    .option('--ingress-https-port <port>', 'serve the cluster\'s Ingresses over HTTPS on this port (0: not at all)', '443')
    .option('--ingress-address <ip>', 'address the ingress ports listen on (default: every address)', '')
    .option('--pod-network-file <file>', "flannel's subnet.env, followed while the agent runs", FLANNEL_SUBNET_FILE)
    .option('--wait-for-pod-network', 'start no pod (except hostNetwork ones) and report the node NotReady until --pod-network-file exists, as on hosts with flannel', false)
    .action(async (flags: AgentFlags) => {
      const caPem = fs.readFileSync(flags.caFile, 'utf8');
      const token = joinToken(flags);
      const log = (m: string): void => void process.stderr.write(`${new Date().toISOString()} agent: ${m}\n`);
      const nodeName = (flags.nodeName ?? os.hostname()).toLowerCase();
      let stop: () => Promise<void>;
      if (flags.hollowNodes) {
        const count = Number(flags.hollowNodes);
        if (!Number.isInteger(count) || count < 1) throw new Error(`--hollow-nodes must be a positive integer, got "${flags.hollowNodes}"`);
        // Hollow nodes and the fake runtime are for scale tests: a real node does not load them.
        const { startHollowNodes } = await import('../../agent/hollow/hollow-nodes');
        const hollow = await startHollowNodes({ server: flags.server, caPem, token, count, namePrefix: nodeName, dataDir: flags.dataDir, leaseIntervalMs: seconds(flags.leaseInterval, '--lease-interval'), log });
        stop = hollow.stop;
      } else {
        const runtime = await makeRuntime(flags, nodeName);
        const agent: RunningAgent = await startAgent({
          server: flags.server, caPem, token, nodeName, dataDir: flags.dataDir, runtime,
          addresses: flags.address, kubeletPort: Number(flags.kubeletPort), log,
          restartBackoffBaseMs: seconds(flags.restartBackoff, '--restart-backoff'),
          leaseIntervalMs: seconds(flags.leaseInterval, '--lease-interval'),
          startConcurrency: Math.max(1, Number(flags.startConcurrency) || 3),
          proxyMode: proxyMode(flags.proxyMode),
          flannelSubnetFile: flags.podNetworkFile,
          requirePodNetwork: flags.waitForPodNetwork,
          clusterDns: flags.clusterDnsAddress ? { address: flags.clusterDnsAddress, domain: flags.clusterDomain } : undefined,
          cleanLocalVolumes: true,
          ingress: { address: flags.ingressAddress, httpPort: port(flags.ingressHttpPort, '--ingress-http-port'), httpsPort: port(flags.ingressHttpsPort, '--ingress-https-port') },
        });
        stop = agent.stop;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        process.once('SIGTERM', done);
        process.once('SIGINT', done);
      });
      log('stopping (containers keep running; a restarted agent adopts them)');
      await stop();
      // Open sockets of the engine client can keep the loop alive for seconds; the work is done.
      process.exit(0);
    });
}

async function makeRuntime(flags: AgentFlags, nodeName: string): Promise<ContainerRuntime> {
  if (flags.runtime === 'fake') return new (await import('../../agent/hollow/fake-runtime')).FakeRuntime(nodeName);
  if (flags.runtime && !['docker', 'podman'].includes(flags.runtime)) throw new Error(`--runtime must be docker, podman or fake, got "${flags.runtime}"`);
  const preferred = flags.runtime === 'podman' || flags.runtime === 'docker' ? ENGINE_SOCKETS[flags.runtime] : undefined;
  const endpoint = resolveEndpoint(flags.runtimeEndpoint ?? (preferred && fs.existsSync(preferred) ? `unix://${preferred}` : undefined));
  return new DockerRuntime({ endpoint, nodeName, pauseImage: flags.pauseImage, pullTimeoutMs: 120_000 });
}

function proxyMode(value: string): ProxyMode | 'none' {
  if (!['auto', 'kernel', 'userspace', 'none'].includes(value)) throw new Error(`--proxy-mode must be auto, kernel, userspace or none, got "${value}"`);
  return value as ProxyMode | 'none';
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port number from 0 (off) to 65535, got "${value}"`);
  return n;
}

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number of seconds, got "${value}"`);
  return Math.round(n * 1000);
}

/** The join token from --token or --token-file (exactly one): a file keeps it out of `ps`. */
function joinToken(flags: AgentFlags): string {
  if (flags.token && flags.tokenFile) throw new Error('give --token or --token-file, not both');
  if (flags.token) return flags.token;
  if (!flags.tokenFile) throw new Error('the agent needs the join token: --token-file FILE (or --token TOKEN)');
  let text: string;
  try {
    text = fs.readFileSync(flags.tokenFile, 'utf8').trim();
  } catch (err) {
    throw new Error(`cannot read --token-file ${flags.tokenFile}: ${(err as Error).message}`);
  }
  if (!text) throw new Error(`--token-file ${flags.tokenFile} is empty: copy DATA/join-token from the master into it`);
  return text;
}
