import os from 'node:os';
import path from 'node:path';

/** Where a local cluster (`lotse up`) keeps everything: data, pid files, logs, the engine socket. */
export interface LocalPaths {
  root: string;
  /** cluster.json: port, runtime endpoint, node names. */
  stateFile: string;
  lockFile: string;
  masterDataDir: string;
  pidDir: string;
  logDir: string;
  /** Socket of the podman service `lotse up` starts when no engine socket is served. */
  podmanSocket: string;
  agentDataDir(node: string): string;
  pidFile(component: string): string;
  logFile(component: string): string;
}

/** `$LOTSE_HOME/local`, `$LOTSE_HOME` defaulting to `~/.lotse`. */
export function localPaths(env: NodeJS.ProcessEnv = process.env): LocalPaths {
  const home = env.LOTSE_HOME || path.join(os.homedir(), '.lotse');
  const root = path.join(path.resolve(home), 'local');
  return {
    root,
    stateFile: path.join(root, 'cluster.json'),
    lockFile: path.join(root, 'up.lock'),
    masterDataDir: path.join(root, 'master'),
    pidDir: path.join(root, 'pids'),
    logDir: path.join(root, 'logs'),
    podmanSocket: path.join(root, 'podman.sock'),
    agentDataDir: (node) => path.join(root, 'agents', node),
    pidFile: (component) => path.join(root, 'pids', `${component}.pid`),
    logFile: (component) => path.join(root, 'logs', `${component}.log`),
  };
}

/** Node names of a local cluster: lotse-local, lotse-local-2, lotse-local-3... */
export function localNodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? 'lotse-local' : `lotse-local-${i + 1}`));
}
