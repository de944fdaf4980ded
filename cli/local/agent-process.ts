import fs from 'node:fs';
import path from 'node:path';
import { AGENT_NODE_FLAGS } from '../../cluster/agent-node-flags';
import type { ClusterState } from './cluster-state';
import { DEFAULT_INGRESS_PORTS, masterUrl } from './cluster-state';
import type { LocalPaths } from './local-paths';
import { componentCommand } from './lotse-binary';
import { podGateway } from './pod-gateway';
import { runningPid, startDetached, tailLog } from './process-supervisor';

export const agentComponent = (node: string): string => `agent-${node}`;

/** Pid of the agent for node when it runs (its data dir in the command line tells it apart). */
export function runningAgent(paths: LocalPaths, node: string): number | undefined {
  return runningPid(paths.pidFile(agentComponent(node)), paths.agentDataDir(node));
}

/**
 * Starts `lotse agent` for node against the local master. Every agent reports 127.0.0.1 (the
 * cluster lives on this machine) and lets the kernel pick its logs/exec port, so N agents never clash.
 */
export function spawnAgent(paths: LocalPaths, state: ClusterState, node: string): number {
  const joinToken = fs.readFileSync(path.join(paths.masterDataDir, 'join-token'), 'utf8').trim();
  const args = [
    ...AGENT_NODE_FLAGS,
    ...componentCommand('agent'),
    '--server', masterUrl(state),
    '--token', joinToken,
    '--ca-file', path.join(paths.masterDataDir, 'ca.crt'),
    '--node-name', node,
    '--data-dir', paths.agentDataDir(node),
    '--runtime', state.runtime.kind,
    '--runtime-endpoint', state.runtime.endpoint,
    '--address', '127.0.0.1',
    '--kubelet-port', '0',
    // One service proxy, one DNS server and one ingress router per host: the first node's agent
    // serves them for all (on 127.0.0.1: the local cluster is not exposed to the network).
    ...(node === state.nodes[0] ? ['--cluster-dns-address', podGateway(state.runtime.kind), ...ingressArgs(state.ingress ?? DEFAULT_INGRESS_PORTS)] : ['--proxy-mode', 'none', ...ingressArgs({ httpPort: 0, httpsPort: 0 })]),
  ];
  const component = agentComponent(node);
  return startDetached(process.execPath, args, paths.pidFile(component), paths.logFile(component), component).pid;
}

function ingressArgs(ports: { httpPort: number; httpsPort: number }): string[] {
  return ['--ingress-address', '127.0.0.1', '--ingress-http-port', String(ports.httpPort), '--ingress-https-port', String(ports.httpsPort)];
}

export function agentLastWords(paths: LocalPaths, node: string): string {
  return tailLog(paths.logFile(agentComponent(node)), 3).replace(/\s*\n\s*/g, ' | ') || 'no output';
}
