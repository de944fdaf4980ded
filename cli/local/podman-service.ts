import { pingEngine } from './engine-ping';
import type { LocalPaths } from './local-paths';
import { runningPid, sleep, startDetached, tailLog } from './process-supervisor';

export const PODMAN_SERVICE = 'podman';

/** Pid of the podman API service `lotse up` started, when it runs. */
export function runningPodmanService(paths: LocalPaths): number | undefined {
  return runningPid(paths.pidFile(PODMAN_SERVICE), paths.podmanSocket);
}

/**
 * Serves the Docker Engine API of podman on the cluster's own socket (no system service needed)
 * and waits until it answers /_ping.
 */
export async function startPodmanService(paths: LocalPaths, podman: string, timeoutMs = 20_000, onStarted: (pid: number) => void = () => undefined): Promise<number> {
  const existing = runningPodmanService(paths);
  if (existing && (await pingEngine(paths.podmanSocket))) return existing;
  const { pid } = startDetached(podman, ['system', 'service', '--time=0', `unix://${paths.podmanSocket}`], paths.pidFile(PODMAN_SERVICE), paths.logFile(PODMAN_SERVICE), PODMAN_SERVICE);
  // Known to the caller before the wait, so a Ctrl-C during it stops the service too.
  onStarted(pid);
  const deadline = Date.now() + timeoutMs;
  while (!(await pingEngine(paths.podmanSocket, 500))) {
    if (!runningPodmanService(paths)) {
      throw new Error(`podman system service exited: ${tailLog(paths.logFile(PODMAN_SERVICE), 3).replace(/\n/g, ' | ')} (is podman working? try "podman info"; log: ${paths.logFile(PODMAN_SERVICE)})`);
    }
    if (Date.now() > deadline) throw new Error(`podman system service did not answer on ${paths.podmanSocket} within ${timeoutMs / 1000} s (log: ${paths.logFile(PODMAN_SERVICE)})`);
    await sleep(50);
  }
  return pid;
}
