import type { RuntimeContainer } from '../runtime/container-runtime';

/** What the kubelet reports for a container whose end nobody saw (the node rebooted under it). */
export const LOST_EXIT_CODE = 255;

/**
 * Containers that ran and were lost when the host went down: the engine keeps them, and podman
 * shows them as "created" again after a reboot (its run state lived in /run). They ended, with an
 * end nobody saw, as the kubelet reports it (Unknown, 255); restartPolicy judges them like any
 * exit, so a restarted node runs its pods again. A start that failed (StartFailures) is already
 * shown as exited; a container that never ran has no start time and still gets its start.
 */
export function lostInRestart(containers: RuntimeContainer[]): RuntimeContainer[] {
  return containers.map((c) => (c.state === 'created' && c.startedAt ? { ...c, state: 'exited', exitCode: LOST_EXIT_CODE, reason: 'Unknown', finishedAt: c.finishedAt ?? c.startedAt } : c));
}
