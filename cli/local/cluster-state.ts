import fs from 'node:fs';
import type { LocalPaths } from './local-paths';
import type { DetectedRuntime } from './runtime-detection';

/** What `lotse up` records so that `down`, `status` and a repeat `up` find the same cluster. */
export interface ClusterState {
  /** Port of the master on 127.0.0.1. */
  port: number;
  runtime: DetectedRuntime;
  nodes: string[];
  /** Ports of the first node's ingress router on 127.0.0.1 (0: off); absent in states of older versions. */
  ingress?: IngressPorts;
}

export interface IngressPorts {
  httpPort: number;
  httpsPort: number;
}

/** lotse up serves Ingresses on the usual ports unless told otherwise. */
export const DEFAULT_INGRESS_PORTS: IngressPorts = { httpPort: 80, httpsPort: 443 };

export function readClusterState(paths: LocalPaths): ClusterState | undefined {
  if (!fs.existsSync(paths.stateFile)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(paths.stateFile, 'utf8')) as ClusterState;
  } catch (err) {
    throw new Error(`cannot read ${paths.stateFile}: ${(err as Error).message} (remove it, or run lotse down --purge to start over)`);
  }
}

export function writeClusterState(paths: LocalPaths, state: ClusterState): void {
  fs.mkdirSync(paths.root, { recursive: true });
  const tmp = `${paths.stateFile}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, paths.stateFile);
}

export function masterUrl(state: Pick<ClusterState, 'port'>): string {
  return `https://127.0.0.1:${state.port}`;
}
