import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { currentContext, userKubeconfigPath, type CurrentContext } from '../../kube/kubeconfig-file';
import { masterUrl, readClusterState } from '../local/cluster-state';
import { localPaths } from '../local/local-paths';

export interface DashboardTarget {
  url: string;
  /** Where the URL came from, to say so. */
  source: string;
  /** How the user gets a token to sign in with. */
  tokenHint: string;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('Print the dashboard URL of the local cluster (or of the current kubeconfig context) and open it in a browser')
    .option('--url', 'only print the URL; do not open a browser')
    .action((flags: { url?: boolean }) => {
      const target = dashboardTarget(process.env);
      if (flags.url) {
        process.stdout.write(`${target.url}\n`);
        return;
      }
      process.stdout.write(`dashboard (${target.source}): ${target.url}\n${target.tokenHint}\n`);
      process.stdout.write('The browser will warn about the certificate: the cluster CA is private to this cluster.\n');
      const opener = browserOpener(process.env);
      if (!opener) {
        process.stdout.write('No browser found here (no display or no xdg-open): open the URL yourself.\n');
        return;
      }
      const child = spawn(opener, [target.url], { detached: true, stdio: 'ignore', env: process.env });
      child.on('error', (err) => process.stderr.write(`could not start ${opener}: ${err.message}; open the URL yourself\n`));
      child.unref();
    });
}

/** The local cluster `lotse up` keeps under $LOTSE_HOME/local, else the server of the current kubeconfig context. */
export function dashboardTarget(env: NodeJS.ProcessEnv): DashboardTarget {
  const paths = localPaths(env);
  const state = readClusterState(paths);
  if (state) {
    return {
      url: `${masterUrl(state)}/dashboard/`,
      source: `local cluster in ${paths.root}`,
      tokenHint: `Sign in with the admin token: kubectl config view --raw --minify --context lotse -o jsonpath='{.users[0].user.token}'`,
    };
  }
  const file = userKubeconfigPath(env);
  if (!existsSync(file)) {
    throw new Error(`no local cluster (${paths.stateFile} is missing) and no kubeconfig at ${file}: start one with lotse up, or set KUBECONFIG`);
  }
  let context: CurrentContext;
  try {
    context = currentContext(env);
  } catch (err) {
    throw new Error(`${(err as Error).message}, or start a local cluster with lotse up`);
  }
  const { server, name: contextName } = context;
  return {
    url: `${server.replace(/\/+$/, '')}/dashboard/`,
    source: `kubeconfig context "${contextName}"`,
    tokenHint: `Sign in with the token of that context: kubectl config view --raw --minify -o jsonpath='{.users[0].user.token}'`,
  };
}

/** xdg-open on a Linux desktop, open on macOS; undefined on a headless machine. */
function browserOpener(env: NodeJS.ProcessEnv): string | undefined {
  if (process.platform === 'darwin') return 'open';
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return onPath('xdg-open', env);
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, command))
    .find((file) => existsSync(file));
}
