import path from 'node:path';
import type { Command } from 'commander';
import { lotseBinary } from '../local/lotse-binary';
import { clusterUp, DEFAULT_LOCAL_PORT } from '../local/cluster-up';
import { createStepProgress } from '../local/step-progress';

interface UpFlags {
  nodes?: string;
  port?: string;
  ingressHttpPort?: string;
  ingressHttpsPort?: string;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('Start a local cluster on this machine (master + agents on podman or docker) and merge its kubeconfig context')
    .option('--nodes <n>', 'number of nodes (agents) to run on this machine (default: as many as last time, else 1)')
    .option('--port <port>', `port of the master on 127.0.0.1 (default: the last one used, else ${DEFAULT_LOCAL_PORT})`)
    .option('--ingress-http-port <port>', 'serve Ingresses over HTTP on 127.0.0.1:PORT (0: off; default: the last one used, else 80)')
    .option('--ingress-https-port <port>', 'serve Ingresses over HTTPS on 127.0.0.1:PORT (0: off; default: the last one used, else 443)')
    .action(async (flags: UpFlags) => {
      const nodes = flags.nodes === undefined ? undefined : positiveInt(flags.nodes, '--nodes');
      const port = flags.port === undefined ? undefined : positiveInt(flags.port, '--port');
      const progress = createStepProgress();
      const started = Date.now();
      const ingress = {
        ...(flags.ingressHttpPort === undefined ? {} : { httpPort: portOrOff(flags.ingressHttpPort, '--ingress-http-port') }),
        ...(flags.ingressHttpsPort === undefined ? {} : { httpsPort: portOrOff(flags.ingressHttpsPort, '--ingress-https-port') }),
      };
      const result = await clusterUp({ nodes, port, ingress }, progress);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      progress.info(`\nlocal cluster ${result.reused ? 'already running' : 'up'} in ${secs} s: ${result.state.nodes.length} node(s), kubectl context "lotse". Try:`);
      progress.info('  kubectl get nodes');
      progress.info(`  ${path.join(path.dirname(lotseBinary()), '..', 'scripts', 'build-test-image.sh')}   # once: builds localhost/lotse-hello:1`);
      progress.info('  kubectl create deployment hello --image=localhost/lotse-hello:1 --port=8080');
      progress.info('  kubectl expose deployment hello --type=NodePort --port=8080');
      progress.info('  curl "$(lotse service hello --url)"');
      const http = result.state.ingress?.httpPort;
      if (http) progress.info(`  kubectl create ingress hello --rule="hello.localhost/*=hello:8080"; curl -H "Host: hello.localhost" http://127.0.0.1${http === 80 ? '' : `:${http}`}/`);
      progress.info('  lotse dashboard');
      progress.info('  lotse down           # --purge also deletes the data (docs/local-cluster.md)');
    });
}

function portOrOff(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port number, or 0 to turn it off, got "${value}"`);
  return n;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return n;
}
