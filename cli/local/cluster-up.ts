import path from 'node:path';
import type { Node } from 'kubernetes-types/core/v1';
import { core } from '../../kube/resource-path';
import { adminClient } from './admin-client';
import { agentComponent, agentLastWords, runningAgent, spawnAgent } from './agent-process';
import { DEFAULT_INGRESS_PORTS, masterUrl, readClusterState, writeClusterState, type ClusterState, type IngressPorts } from './cluster-state';
import { userKubeconfigPath } from '../../kube/kubeconfig-file';
import { mergeLocalKubeconfig, type MergeResult } from './local-kubeconfig';
import { localNodeNames, localPaths, type LocalPaths } from './local-paths';
import { MASTER, runningMaster, spawnMaster, waitMasterReady } from './master-process';
import { waitNodesReady } from './node-readiness';
import { PODMAN_SERVICE, runningPodmanService, startPodmanService } from './podman-service';
import { portIsFree, portTakenMessage } from './port-check';
import { stopProcess } from './process-supervisor';
import type { StepProgress } from './step-progress';
import { detectRuntime, type DetectedRuntime } from './runtime-detection';
import { StartedProcesses } from './started-processes';
import { acquireLock } from './up-lock';

/** Port of the local master unless --port says otherwise (or an earlier up chose one). */
export const DEFAULT_LOCAL_PORT = 6443;

export interface UpOptions {
  /** --nodes; undefined: as many as last time, else 1. */
  nodes?: number;
  /** --port; undefined: the port the cluster used last time, else DEFAULT_LOCAL_PORT. */
  port?: number;
  /** --ingress-http-port / --ingress-https-port (0: off); undefined: as last time, else 80 and 443. */
  ingress?: Partial<IngressPorts>;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the master, and then for the nodes (default 60 s each). */
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
 * fails or the user interrupts, whatever this call started is stopped again: never a half-started cluster.
 */
export async function clusterUp(options: UpOptions, progress: StepProgress): Promise<UpResult> {
  const env = options.env ?? process.env;
  const paths = localPaths(env);
  const lock = acquireLock(paths.lockFile, 'up');
  const started = new StartedProcesses(paths, () => lock.release());
  try {
    const previous = readClusterState(paths);
    const reused = Boolean(previous && runningMaster(paths));
    const { state, engine } = reused && previous ? await reuse(paths, previous, options, progress, started) : await startFresh(paths, previous, options, env, progress, started);
    await progress.step('container engine ready', () => engine, () => `container engine ready (${state.runtime.kind}, ${state.runtime.endpoint})`);
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
    const kubeconfig = await progress.step('kubeconfig merged', async () => mergeLocalKubeconfig(path.join(paths.masterDataDir, 'admin.kubeconfig'), userKubeconfigPath(env)),
      (r) => `kubeconfig: context "lotse" in ${r.path}${r.backup ? ` (backup ${r.backup})` : ''}`);
    started.keep();
    return { state, reused, kubeconfig };
  } catch (err) {
    await started.stopAll();
    throw err;
  } finally {
    started.dispose();
    lock.release();
  }
}

/** The cluster to bring up, and the engine API coming up meanwhile (it does not depend on the master). */
interface Plan {
  state: ClusterState;
  engine: Promise<void>;
}

async function reuse(paths: LocalPaths, previous: ClusterState, options: UpOptions, progress: StepProgress, started: StartedProcesses): Promise<Plan> {
  progress.info(`reusing the local cluster already running at ${masterUrl(previous)} (lotse down stops it)`);
  if (options.port !== undefined && options.port !== previous.port) {
    throw new Error(`the local cluster already runs on port ${previous.port}: run lotse down first to move it to --port ${options.port}`);
  }
  const nodes = options.nodes ?? previous.nodes.length;
  if (nodes < previous.nodes.length) {
    throw new Error(`the running local cluster has ${previous.nodes.length} nodes and lotse up does not remove nodes: run lotse down, then lotse up --nodes ${nodes}`);
  }
  const ingress = previous.ingress ?? DEFAULT_INGRESS_PORTS;
  const asked = { ...ingress, ...options.ingress };
  if (asked.httpPort !== ingress.httpPort || asked.httpsPort !== ingress.httpsPort) {
    throw new Error(`the local cluster already serves Ingresses on ports ${ingress.httpPort}/${ingress.httpsPort}: run lotse down first to change them`);
  }
  const state: ClusterState = { ...previous, ingress, nodes: localNodeNames(nodes) };
  const engine = background(ensureEngine(paths, state.runtime, started));
  await progress.step('master ready', () => waitMasterReady(paths, state.port, runningMaster(paths) ?? 0, options.timeoutMs ?? 60_000), () => `master ready at ${masterUrl(state)}`);
  return { state, engine };
}

async function startFresh(paths: LocalPaths, previous: ClusterState | undefined, options: UpOptions, env: NodeJS.ProcessEnv, progress: StepProgress, started: StartedProcesses): Promise<Plan> {
  // Leftover agents of a cluster whose master died would join nothing; they restart below.
  for (const node of previous?.nodes ?? []) {
    const pid = runningAgent(paths, node);
    if (pid) await stopProcess(pid, paths.agentDataDir(node), paths.pidFile(agentComponent(node)), 3000);
  }
  const port = options.port ?? previous?.port ?? DEFAULT_LOCAL_PORT;
  if (!(await portIsFree(port))) throw new Error(portTakenMessage(port));
  const runtime = await detectRuntime(paths.podmanSocket, env);
  const ingress = { ...(previous?.ingress ?? DEFAULT_INGRESS_PORTS), ...options.ingress };
  const state: ClusterState = { port, runtime, nodes: localNodeNames(options.nodes ?? previous?.nodes.length ?? 1), ingress };
  const engine = background(ensureEngine(paths, runtime, started));
  await progress.step('master ready', async () => {
    const pid = spawnMaster(paths, port, runtime.kind);
    started.add(MASTER, pid, paths.masterDataDir);
    await waitMasterReady(paths, port, pid, options.timeoutMs ?? 60_000);
    await forgetRemovedNodes(paths, state, previous?.nodes ?? []);
  }, () => `master ready at ${masterUrl(state)}`);
  return { state, engine };
}

/** A promise awaited later: its rejection must not count as unhandled in the meantime. */
function background(work: Promise<void>): Promise<void> {
  work.catch(() => undefined);
  return work;
}

/** Nodes of an earlier, larger local cluster would stay NotReady forever: their Node objects go. */
async function forgetRemovedNodes(paths: LocalPaths, state: ClusterState, before: string[]): Promise<void> {
  const gone = before.filter((n) => !state.nodes.includes(n));
  if (!gone.length) return;
  const client = adminClient(paths.masterDataDir, masterUrl(state));
  try {
    await Promise.all(gone.map((name) => client.delete<Node>(core('nodes', name)).catch(() => undefined)));
  } finally {
    client.close();
  }
}

async function ensureEngine(paths: LocalPaths, runtime: DetectedRuntime, started: StartedProcesses): Promise<void> {
  if (!runtime.ownService || runningPodmanService(paths)) return;
  await startPodmanService(paths, runtime.podman, undefined, (pid) => started.add(PODMAN_SERVICE, pid, paths.podmanSocket));
}

async function startMissingAgents(paths: LocalPaths, state: ClusterState, progress: StepProgress, started: StartedProcesses): Promise<void> {
  const missing = state.nodes.filter((n) => !runningAgent(paths, n));
  if (!missing.length) return;
  await progress.step(`agents started (${missing.join(', ')})`, async () => {
    for (const node of missing) started.add(agentComponent(node), spawnAgent(paths, state, node), paths.agentDataDir(node));
  });
}

function assertAgentsRun(paths: LocalPaths, nodes: string[]): void {
  for (const node of nodes) {
    if (!runningAgent(paths, node)) throw new Error(`the agent of ${node} exited: ${agentLastWords(paths, node)} (full log: ${paths.logFile(agentComponent(node))})`);
  }
}
