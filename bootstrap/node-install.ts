import { createReadStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createHash, randomBytes } from 'node:crypto';
import { asRoot, stagingDir, type RootShell } from './file-sync';
import { fetchNodeBuild, type CachedNodeBuild, type FetchNodeBuildOptions, type HostArch } from './node-build';
import type { NodeRuntime } from './node-runtime';

type Shipped = Extract<NodeRuntime, { kind: 'shipped' }>;

/**
 * The verified builds this run ships, one per architecture: fetched (or taken from the cache) once,
 * whatever the number of hosts, with the digest of the unpacked binary the hosts must end up with.
 */
export class NodeBuildShelf {
  private readonly builds = new Map<HostArch, Promise<{ cached: CachedNodeBuild; binarySha256: string }>>();

  constructor(private readonly options: FetchNodeBuildOptions = {}) {}

  get(arch: HostArch): Promise<{ cached: CachedNodeBuild; binarySha256: string }> {
    let build = this.builds.get(arch);
    if (!build) {
      build = fetchNodeBuild(arch, this.options).then(async (cached) => ({ cached, binarySha256: await sha256File(cached.node) }));
      this.builds.set(arch, build);
    }
    return build;
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Puts the shipped Node.js on a host unless the exact binary is already there: uploads the
 * verified registry tarball, unpacks only `bin/node`, checks its sha256 against the local copy on
 * the host itself and only then moves it into place. Returns whether anything changed.
 */
export async function installShippedNode(shell: RootShell, hostName: string, rt: Shipped, shelf: NodeBuildShelf): Promise<boolean> {
  const { cached, binarySha256 } = await shelf.get(rt.build.arch);
  const present = await shell.conn.exec(asRoot(shell, `sha256sum < ${rt.node} 2>/dev/null | cut -d' ' -f1`));
  if (present.stdout.trim() === binarySha256) return false;
  const staging = stagingDir(shell);
  const staged = `${staging}/node-${rt.build.version}-${randomBytes(4).toString('hex')}.tgz`;
  await shell.conn.run(`mkdir -p ${staging} && chmod 700 ${staging}`, 'preparing the upload directory');
  await shell.conn.writeFile(staged, readFileSync(cached.tarball), 0o600);
  const dir = rt.node.replace(/\/bin\/node$/, '');
  await shell.conn.run(
    asRoot(
      shell,
      [
        'set -e',
        `work=$(mktemp -d)`,
        `trap 'rm -rf "$work" ${staged}' EXIT`,
        `tar -xzf ${staged} -C "$work" package/bin/node`,
        `echo "${binarySha256}  $work/package/bin/node" | sha256sum -c --quiet`,
        `install -D -m 755 "$work/package/bin/node" ${dir}/bin/node.lotse-new`,
        `mv ${dir}/bin/node.lotse-new ${rt.node}`,
        `${rt.node} --version`,
      ].join('\n'),
    ),
    `installing Node.js ${rt.build.version} (${rt.build.arch}) on ${hostName}`,
  );
  return true;
}
