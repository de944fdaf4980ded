import fs from 'node:fs';
import path from 'node:path';
import { MASTER_NODE_FLAGS } from '../../cluster/master-node-flags';
import { healthStatus } from './admin-client';
import type { LocalPaths } from './local-paths';
import { componentCommand } from './lotse-binary';
import { podGateway } from './pod-gateway';
import type { DetectedRuntime } from './runtime-detection';
import { runningPid, sleep, startDetached, tailLog } from './process-supervisor';

export const MASTER = 'master';

/** Pid of the local master when it runs. Its data dir in the command line tells it apart. */
export function runningMaster(paths: LocalPaths): number | undefined {
  return runningPid(paths.pidFile(MASTER), paths.masterDataDir);
}

/**
 * Starts `lotse master` on 127.0.0.1 for this machine's clients, and on the pod bridge's gateway
 * for pods (advertised, so the kubernetes Service leads there): in-cluster clients work as on a
 * real cluster, while nothing listens on the machine's other networks.
 */
export function spawnMaster(paths: LocalPaths, port: number, runtime: DetectedRuntime['kind']): number {
  const gateway = podGateway(runtime);
  const args = [...MASTER_NODE_FLAGS, ...componentCommand('master'), '--data-dir', paths.masterDataDir, '--listen', `127.0.0.1:${port}`, '--also-listen', `${gateway}:${port}`, '--advertise-address', gateway];
  return startDetached(process.execPath, args, paths.pidFile(MASTER), paths.logFile(MASTER), MASTER).pid;
}

/** Waits until the master answers /readyz; fails early, quoting its log, when the process exits. */
export async function waitMasterReady(paths: LocalPaths, port: number, pid: number, timeoutMs: number): Promise<void> {
  const caFile = path.join(paths.masterDataDir, 'ca.crt');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (runningPid(paths.pidFile(MASTER), paths.masterDataDir) !== pid) {
      throw new Error(`the master exited while starting: ${lastWords(paths)} (full log: ${paths.logFile(MASTER)})`);
    }
    if (fs.existsSync(caFile) && (await healthStatus(`https://127.0.0.1:${port}`, fs.readFileSync(caFile, 'utf8'), '/readyz', 1000)) === 200) return;
    if (Date.now() > deadline) throw new Error(`the master did not become ready within ${timeoutMs / 1000} s: see ${paths.logFile(MASTER)}`);
    await sleep(50);
  }
}

function lastWords(paths: LocalPaths): string {
  return tailLog(paths.logFile(MASTER), 3).replace(/\s*\n\s*/g, ' | ') || 'no output';
}
