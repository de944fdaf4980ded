import type { HostFacts } from './host-facts';
import { NODE_LAYOUT } from '../cluster/node-layout';
import type { SshConnection } from './ssh-connection';

export const MIN_NODE_MAJOR = 20;

/** How a host runs lotse.js: its own Node.js, or a Node.js image through podman/docker. */
export type NodeRuntime = { kind: 'host'; node: string } | { kind: 'container'; engine: string; image: string; node: string };

/**
 * Picks the host's Node.js when it is recent enough, else a container engine with a Node.js image
 * (Fedora CoreOS and Flatcar ship podman/docker but no Node.js); throws a message saying what to
 * install when neither is there.
 */
export function chooseNodeRuntime(hostName: string, facts: HostFacts, image: string): NodeRuntime {
  if (facts.node && facts.node.major >= MIN_NODE_MAJOR) return { kind: 'host', node: facts.node.path };
  if (facts.containerEngine) return { kind: 'container', engine: facts.containerEngine, image, node: NODE_LAYOUT.nodeWrapper };
  const found = facts.node ? `Node.js ${facts.node.version} at ${facts.node.path} (too old, lotse needs ${MIN_NODE_MAJOR} or later)` : 'no Node.js';
  throw new Error(
    `${hostName} has ${found} and no container engine (podman or docker) to run the Node.js image ${image}; ` +
      `install Node.js ${MIN_NODE_MAJOR}+ (e.g. apt-get install nodejs) or podman on ${hostName}`,
  );
}

/** The wrapper that runs `node` in the image with the host's network, PIDs and lotse directories. */
export function nodeWrapperScript(rt: Extract<NodeRuntime, { kind: 'container' }>): string {
  const mounts = ['/etc/lotse', '/var/lib/lotse', '/opt/lotse', '/run'].map((d) => `-v ${d}:${d}`).join(' ');
  return `#!/bin/sh
# Written by lotse bootstrap: this host has no Node.js, so lotse runs in ${rt.image}.
exec ${rt.engine} run --rm --name "lotse-$(basename "$2" 2>/dev/null || echo run)-$$" --net=host --pid=host --privileged ${mounts} ${rt.image} node "$@"
`;
}

/** Makes sure the image is there; a host without registry access gets a clear message. */
export async function ensureNodeImage(conn: SshConnection, rt: Extract<NodeRuntime, { kind: 'container' }>, sudo: string): Promise<boolean> {
  const present = await conn.exec(`${sudo}${rt.engine} image inspect ${rt.image} >/dev/null 2>&1`);
  if (present.code === 0) return false;
  await conn.run(`${sudo}${rt.engine} pull ${rt.image} 2>&1`, `pulling the Node.js image ${rt.image} (the host has no Node.js; preload the image or install Node.js ${MIN_NODE_MAJOR}+)`);
  return true;
}
