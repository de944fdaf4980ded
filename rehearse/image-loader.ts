import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './command-runner';
import { type HostRecord, hostExec, hostPaths } from './host-machine';
import { rehearseHome } from './rehearse-home';

/**
 * `--load-image`: no registry is assumed, so each image is saved from this machine's podman once
 * and loaded into every host's engine (podman on FCOS-like hosts, docker on Flatcar-like ones).
 */
export async function loadImages(images: readonly string[], hosts: readonly HostRecord[], engine: 'podman' | 'docker', say: (host: string, detail: string) => void): Promise<void> {
  const dir = join(rehearseHome(), 'images');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const image of images) {
    const archive = join(dir, `${image.replace(/[^A-Za-z0-9_.-]/g, '_')}.tar`);
    await run(['podman', 'save', '--format', 'docker-archive', '-o', archive, image]).catch((err: Error) => {
      throw new Error(`--load-image ${image}: cannot save it from this machine's podman (build or pull it here first): ${err.message}`);
    });
    await Promise.all(hosts.map(async (host) => {
      const inside = '/var/tmp/lotse-load-image.tar';
      await run(['cp', archive, join(hostPaths(host).root, inside)]);
      await hostExec(host, [engine, 'load', '-i', inside]);
      await hostExec(host, ['rm', '-f', inside]);
      say(host.name, `${image} loaded into ${engine}`);
    }));
    rmSync(archive, { force: true });
  }
}
