import type { HostFacts } from './host-facts';
import { NODE_LAYOUT } from '../cluster/node-layout';
import { NODE_BUILDS, type HostArch, type PinnedNodeBuild } from './node-build';
import type { NodeSource } from './inventory';

/** The oldest host Node.js lotse runs on when an inventory asks for the host's own (`node: host`). */
export const MIN_NODE_MAJOR = 20;

export type NodeRuntime = { kind: 'host'; node: string; version: string } | { kind: 'shipped'; node: string; build: PinnedNodeBuild };

/** `uname -m` as Kubernetes names architectures; undefined for one lotse ships no Node.js for. */
export function hostArch(unameMachine: string): HostArch | undefined {
  if (unameMachine === 'x86_64' || unameMachine === 'amd64') return 'amd64';
  if (unameMachine === 'aarch64' || unameMachine === 'arm64') return 'arm64';
  return undefined;
}

/** Where the shipped build lives on a host: versioned, so an upgrade never overwrites a running binary. */
export function shippedNodePath(build: PinnedNodeBuild): string {
  return `${NODE_LAYOUT.optDir}/node-v${build.version}/bin/node`;
}

/** Picks the runtime for one host, or says what to change when there is none. */
export function chooseNodeRuntime(hostName: string, facts: HostFacts, source: NodeSource): NodeRuntime {
  if (source === 'host') {
    if (facts.node && facts.node.major >= MIN_NODE_MAJOR) return { kind: 'host', node: facts.node.path, version: facts.node.version };
    const found = facts.node ? `Node.js ${facts.node.version} at ${facts.node.path}, too old (lotse needs ${MIN_NODE_MAJOR} or later)` : 'no Node.js';
    throw new Error(`${hostName} has ${found}, and the inventory says node: host; install Node.js ${MIN_NODE_MAJOR}+ there or remove "node: host" so lotse ships its own`);
  }
  const arch = hostArch(facts.arch);
  if (!arch) {
    throw new Error(`${hostName} is ${facts.arch}; lotse ships Node.js for amd64 (x86_64) and arm64 (aarch64) only: install Node.js ${MIN_NODE_MAJOR}+ there and set node: host in the inventory`);
  }
  const build = NODE_BUILDS[arch];
  return { kind: 'shipped', node: shippedNodePath(build), build };
}
