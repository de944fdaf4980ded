import fs from 'node:fs';
import { agentComponent, runningAgent } from './agent-process';
import { readClusterState } from './cluster-state';
import { removeNodeContainers, removeNodeVolumes } from './container-cleanup';
import { userKubeconfigPath } from '../../kube/kubeconfig-file';
import { removeLocalKubeconfig } from './local-kubeconfig';
import { localPaths } from './local-paths';
import { MASTER, runningMaster } from './master-process';
import { PODMAN_SERVICE, runningPodmanService } from './podman-service';
import { stopProcess } from './process-supervisor';
import type { StepProgress } from './step-progress';
import { acquireLock } from './up-lock';

/**
 * An agent keeps no state a SIGKILL could lose (a restarted one adopts its containers, and down
 * removes them anyway), so down waits only briefly for a clean exit.
 */
const AGENT_GRACE_MS = 3000;

export interface DownOptions {
  purge: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * `lotse down`: stops the agents (so none recreates a container), removes the containers (and volumes) they
 * made, stops the master and the podman service `up` started; with purge, deletes all local data.
 */
export async function clusterDown(options: DownOptions, progress: StepProgress): Promise<void> {
  const paths = localPaths(options.env ?? process.env);
  if (!fs.existsSync(paths.root)) {
    progress.info(`no local cluster (nothing under ${paths.root})`);
    return;
  }
  const lock = acquireLock(paths.lockFile, 'down');
  try {
    const state = readClusterState(paths);
    const nodes = state?.nodes ?? [];
    await progress.step('agents stopped', async () => {
      await Promise.all(nodes.map(async (node) => {
        const pid = runningAgent(paths, node);
        if (pid) await stopProcess(pid, paths.agentDataDir(node), paths.pidFile(agentComponent(node)), AGENT_GRACE_MS);
      }));
    });
    if (state) {
      await progress.step('containers removed', () => removeNodeContainers(state.runtime, nodes), (n) => `${n} container${n === 1 ? '' : 's'} removed`);
      await progress.step('volumes removed', () => removeNodeVolumes(state.runtime, nodes), (n) => `${n} volume${n === 1 ? '' : 's'} removed`);
    }
    await progress.step('master stopped', async () => {
      const pid = runningMaster(paths);
      if (pid) await stopProcess(pid, paths.masterDataDir, paths.pidFile(MASTER));
    });
    const podman = runningPodmanService(paths);
    if (podman) await progress.step('podman service stopped', () => stopProcess(podman, paths.podmanSocket, paths.pidFile(PODMAN_SERVICE)));
    if (options.purge) {
      await progress.step('local data deleted', async () => {
        // Keep the lock file until release so a concurrent up still sees it.
        for (const entry of fs.readdirSync(paths.root)) {
          if (entry !== 'up.lock') fs.rmSync(`${paths.root}/${entry}`, { recursive: true, force: true });
        }
      }, () => `local data deleted (${paths.root})`);
      const env = options.env ?? process.env;
      await progress.step('kubeconfig context removed', async () => removeLocalKubeconfig(userKubeconfigPath(env)),
        (r) => (r.backup ? `context "lotse" removed from ${r.path} (backup ${r.backup})` : `no "lotse" context in ${r.path}`));
    }
  } finally {
    lock.release();
  }
  if (options.purge) fs.rmSync(paths.root, { recursive: true, force: true });
}
