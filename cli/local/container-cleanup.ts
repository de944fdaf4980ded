import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { LABEL } from '../../agent/runtime/container-runtime';
import { parseEndpoint } from '../../agent/runtime/endpoint';
import { MemoryVolumes } from '../../agent/runtime/memory-volumes';
import type { DetectedRuntime } from './runtime-detection';

const run = promisify(execFile);

/**
 * Removes every container the local agents created: those labelled io.lotse.node=<one of nodes>.
 * Containers of other lotse nodes on the same engine are left alone. Returns how many went.
 */
export async function removeNodeContainers(runtime: DetectedRuntime, nodes: string[]): Promise<number> {
  const docker = new Docker(parseEndpoint(runtime.endpoint));
  let list: Docker.ContainerInfo[];
  try {
    list = (await Promise.all(nodes.map((node) => docker.listContainers({ all: true, filters: { label: [`${LABEL.node}=${node}`] } })))).flat();
  } catch (err) {
    if (runtime.ownService) return removeWithPodmanCli(runtime.podman, nodes); // our API service is gone: the CLI still works
    throw new Error(`cannot list the cluster's containers through ${runtime.endpoint}: ${(err as Error).message} (is the engine running?)`);
  }
  // App containers share their sandbox's namespaces: podman refuses to remove a sandbox before them.
  const [apps, sandboxes] = [list.filter((c) => c.Labels?.[LABEL.kind] !== 'sandbox'), list.filter((c) => c.Labels?.[LABEL.kind] === 'sandbox')];
  for (const batch of [apps, sandboxes]) {
    await Promise.all(batch.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch((err: Error & { statusCode?: number }) => {
      if (err.statusCode !== 404) throw new Error(`cannot remove container ${c.Names?.[0] ?? c.Id}: ${err.message}`);
    })));
  }
  return list.length;
}

/**
 * Removes the engine volumes the local agents created (Memory emptyDirs), labelled
 * io.lotse.node=<one of nodes>; run after the containers, which hold them mounted. Returns how many went.
 */
export async function removeNodeVolumes(runtime: DetectedRuntime, nodes: string[]): Promise<number> {
  const docker = new Docker(parseEndpoint(runtime.endpoint));
  try {
    await docker.ping();
  } catch (err) {
    if (runtime.ownService) return removeVolumesWithPodmanCli(runtime.podman, nodes); // our API service is gone: the CLI still works
    throw new Error(`cannot reach the engine at ${runtime.endpoint} to remove the cluster's volumes: ${(err as Error).message} (is the engine running?)`);
  }
  let removed = 0;
  for (const node of nodes) removed += await new MemoryVolumes(docker, node).removeAll();
  return removed;
}

async function removeVolumesWithPodmanCli(podman: string, nodes: string[]): Promise<number> {
  let removed = 0;
  for (const node of nodes) {
    const { stdout } = await run(podman, ['volume', 'ls', '-q', '--filter', `label=${LABEL.node}=${node}`]);
    const names = stdout.split('\n').filter(Boolean);
    if (names.length) await run(podman, ['volume', 'rm', '-f', ...names]);
    removed += names.length;
  }
  return removed;
}

async function removeWithPodmanCli(podman: string, nodes: string[]): Promise<number> {
  let removed = 0;
  for (const node of nodes) {
    const { stdout } = await run(podman, ['ps', '-aq', '--filter', `label=${LABEL.node}=${node}`]);
    const ids = stdout.split('\n').filter(Boolean);
    // --depend takes the app containers that share a sandbox's namespaces along with it.
    if (ids.length) await run(podman, ['rm', '-f', '--depend', '-t', '0', ...ids]);
    removed += ids.length;
  }
  return removed;
}
