import { adminClient } from './admin-client';
import { agentLastWords, runningAgent, spawnAgent, agentComponent } from './agent-process';
import { readClusterState, writeClusterState, masterUrl, type ClusterState } from './cluster-state';
import { mergeKubeconfig, userKubeconfigPath, type MergeResult } from './kubeconfig-merge';
import { localNodeNames, localPaths, type LocalPaths } from './local-paths';
import { MASTER, runningMaster, spawnMaster, waitMasterReady } from './master-process';
import { runningPodmanService, startPodmanService, PODMAN_SERVICE } from './podman-service';
import { portIsFree, portTakenMessage } from './port-check';
import { stopProcess } from './process-supervisor';
import type { Progress } from './progress';
import { detectRuntime, type DetectedRuntime } from './runtime-detection';
import { acquireLock } from './up-lock';
import { waitNodesReady } from './node-readiness';

export interface UpOptions {
  nodes: number;
  port: number;
  env?: NodeJS.ProcessEnv;
  /** Seconds to wait for the master and for the nodes (default 60 each). */
  timeoutMs?: number;
}

export interface UpResult {
  state: ClusterState;
  reused: boolean;
  kubeconfig: MergeResult;
}

/**
 * `lotse up`: under a lock, reuses the running local cluster or starts one (engine API service,
 * master, N agents), waits for every node to be Ready and merges the kubeconfig. When a step
 * fails, whatever this call started is stopped again: never a half-started cluster.
 */
export async function clusterUp(options: UpOptions, progress: Progress): Promise<UpResult> {
  const env = options.env ?? process.env;
  const paths = localPaths(env);
  const lock = acquireLock(paths.lockFile, 'up');
  try {
    const previous = readClusterState(paths);
    const masterPid = runningMaster(paths);
    const reused = Boolean(previous && masterPid);
    const started: { component: string; pid: number; marker: string }[] = [];
    try {
      const state = reused && previous ? await reuse(paths, previous, options, progress) : await startFresh(paths, previous, options, env, progress, started);
      await progress.step('container engine ready', async () => ensureEngine(paths, state.runtime, started), () => `container engine ready (${state.runtime.kind}, ${state.runtime.endpoint})`);
      await startMissingAgents(paths, state, progress, started);
      writeClusterState(paths, state);
      const client = adminClient(paths.masterDataDir, masterUrl(state));
      try {
        await progress.step(`${state.nodes.length} node${state.nodes.length > 1 ? 's' : ''} Ready`, () =>
          waitNodesReady(client, state.nodes, options.timeoutMs ?? 60_000, () => assertAgentsRun(paths, state.nodes)),
        );
      } finally {
        client.close();
      }
      const kubeconfig = await progress.step('kubeconfig merged', async () => mergeKubeconfig(`${paths.masterDataDir}/admin.kubeconfig`, userKubeconfigPath(env)), (r) => `kubeconfig: context "lotse" in ${r.path}${r.backup ? ` (backup ${r.backup})` : ''}`);
      return { state, reused, kubeconfig };
    } catch (err) {
      for (const s of started.reverse()) await stopProcess(s.pid, s.marker, paths.pidFile(s.component), 5000);
      throw err;
    }
  } finally {
    lock.release();
  }
}

async function reuse(paths: LocalPaths, previous: ClusterState, options: UpOptions, progress: Progress): Promise<ClusterState> {
  progress.info(`reusing the local cluster already running at ${masterUrl(previous)} (lotse down stops it)`);
  if (options.nodes < previous.nodes.length) {
    throw new Error(`the running local cluster has ${previous.nodes.length} nodes; lotse up cannot remove nodes: run lotse down, then lotse up --nodes ${options.nodes}`);
  }
  const state: ClusterState = { ...previous, nodes: localNodeNames(Math.max(options.nodes, previous.nodes.length)) };
  await progress.step('master ready', () => waitMasterReady(paths, state.port, runningMaster(paths) ?? 0, options.timeoutMs ?? 60_000), () => `master ready at ${masterUrl(state)}`);
  return state;
}

async function startFresh(paths: LocalPaths, previous: ClusterState | undefined, options: UpOptions, env: NodeJS.ProcessEnv, progress: Progress, started: { component: string; pid: number; marker: string }[]): Promise<ClusterState> {
  // Leftover agents of a cluster whose master died would join nothing; they restart below.
  for (const node of previous?.nodes ?? []) {
    const pid = runningAgent(paths, node);
    if (pid) await stopProcess(pid, paths.agentDataDir(node), paths.pidFile(agentComponent(node)), 5000);
  }
  if (!(await portIsFree(options.port))) throw new Error(portTakenMessage(options.port));
  const runtime = await detectRuntime(paths.podmanSocket, env);
  const state: ClusterState = { port: options.port, runtime, nodes: localNodeNames(options.nodes) };
  await progress.step('master ready', async () => {
    const pid = spawnMaster(paths, options.port);
    started.push({ component: MASTER, pid, marker: paths.masterDataDir });
    await waitMasterReady(paths, options.port, pid, options.timeoutMs ?? 60_000);
  }, () => `master ready at ${masterUrl(state)}`);
  return state;
}

async function ensureEngine(paths: LocalPaths, runtime: DetectedRuntime, started: { component: string; pid: number; marker: string }[]): Promise<void> {
  if (!runtime.ownService || runningPodmanService(paths)) return;
  const pid = await startPodmanService(paths, runtime.podman);
  started.push({ component: PODMAN_SERVICE, pid, marker: paths.podmanSocket });
}

async function startMissingAgents(paths: LocalPaths, state: ClusterState, progress: Progress, started: { component: string; pid: number; marker: string }[]): Promise<void> {
  const missing = state.nodes.filter((n) => !runningAgent(paths, n));
  if (!missing.length) return;
  await progress.step(`agents started (${missing.join(', ')})`, async () => {
    for (const node of missing) {
      const pid = spawnAgent(paths, state, node);
      started.push({ component: agentComponent(node), pid, marker: paths.agentDataDir(node) });
    }
  });
}

function assertAgentsRun(paths: LocalPaths, nodes: string[]): void {
  for (const node of nodes) {
    if (!runningAgent(paths, node)) throw new Error(`the agent of ${node} exited: ${agentLastWords(paths, node)} (full log: ${paths.logFile(agentComponent(node))})`);
  }
}
