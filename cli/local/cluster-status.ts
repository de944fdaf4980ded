import fs from 'node:fs';
import path from 'node:path';
import { adminClient, healthStatus } from './admin-client';
import { runningAgent } from './agent-process';
import { masterUrl, readClusterState } from './cluster-state';
import { pingEngine } from './engine-ping';
import { localPaths } from './local-paths';
import { runningMaster } from './master-process';
import { nodeHealth, type NodeHealth } from './node-readiness';

export interface ClusterStatus {
  running: boolean;
  url?: string;
  /** "ok" when /healthz answers 200, else what went wrong. */
  health?: string;
  masterPid?: number;
  /** "podman unix:///... ok" or "... not answering". */
  engine?: string;
  nodes: (NodeHealth & { agentPid?: number })[];
  dataDir: string;
}

/** What `lotse status` reports: the master's URL and health, each node's agent and Ready condition. */
export async function clusterStatus(env: NodeJS.ProcessEnv = process.env): Promise<ClusterStatus> {
  const paths = localPaths(env);
  const state = fs.existsSync(paths.root) ? readClusterState(paths) : undefined;
  const masterPid = runningMaster(paths);
  if (!state || !masterPid) {
    return { running: false, nodes: (state?.nodes ?? []).map((name) => ({ name, ready: 'Unknown', agentPid: runningAgent(paths, name) })), dataDir: paths.root };
  }
  const url = masterUrl(state);
  const ca = fs.readFileSync(path.join(paths.masterDataDir, 'ca.crt'), 'utf8');
  const code = await healthStatus(url, ca, '/healthz');
  const health = code === 200 ? 'ok' : code === undefined ? 'not answering' : `HTTP ${code}`;
  let nodes: NodeHealth[] = state.nodes.map((name) => ({ name, ready: 'Unknown' }));
  if (code === 200) {
    const client = adminClient(paths.masterDataDir, url);
    try {
      nodes = await nodeHealth(client, state.nodes);
    } finally {
      client.close();
    }
  }
  const socket = state.runtime.endpoint.startsWith('unix://') ? state.runtime.endpoint.slice('unix://'.length) : undefined;
  const engineOk = socket ? await pingEngine(socket) : true;
  const engine = `${state.runtime.kind} ${state.runtime.endpoint} ${engineOk ? 'ok' : 'not answering (lotse up restarts it)'}`;
  return { running: true, url, health, masterPid, engine, nodes: nodes.map((n) => ({ ...n, agentPid: runningAgent(paths, n.name) })), dataDir: paths.root };
}
