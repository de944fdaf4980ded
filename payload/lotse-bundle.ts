import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Plugin } from 'esbuild';
import { lotseHome } from '../cluster/lotse-home';
import { embeddableDashboard } from '../master/dashboard/serve-dashboard';

export interface BundleFile {
  path: string;
  content: Buffer;
  sha256: string;
}

/** lotse.js (every command), and the agent's own file beside it. */
export interface Bundle extends BundleFile {
  /**
   * lotse-agent.js, the `agent` command alone, which the hosts' agent runs: V8 parses a script's
   * whole source and keeps it for the process's life, so an agent started from lotse.js held every
   * other command's code too (~18 MB RSS on Node 24, bench/RESULTS.md). lotse.js itself where no
   * such file was built (a prebuilt LOTSE_BUNDLE without one beside it): it runs the agent as well.
   */
  agent: BundleFile;
  /** Source files esbuild read from disk (empty for a prebuilt LOTSE_BUNDLE). */
  inputs: string[];
}

/** The agent-only bundle's file name, beside lotse.js wherever that is. */
export const AGENT_BUNDLE_FILE = 'lotse-agent.js';

/**
 * better-sqlite3 is a native addon built for one CPU and one Node ABI, so it cannot travel in a
 * bundle that runs on amd64 and arm64 alike. The bundle gets this stand-in: it loads the host's own
 * better-sqlite3 when a master actually opens a SQLite store, and otherwise says what is missing.
 */
const SQLITE_SHIM = `
function Database(...args) {
  let real;
  try {
    real = eval('require')('better-sqlite3');
  } catch (err) {
    throw new Error('the embedded SQLite store needs the better-sqlite3 addon built for this host (' + process.arch + ', Node ' + process.version + '), and the lotse bundle carries no native code: install better-sqlite3 where Node can require it (NODE_PATH), or use store: etcd in the bootstrap inventory (' + err.message + ')');
  }
  return new real(...args);
}
module.exports = Database;
module.exports.default = Database;
`;

/** Keeps native addons out: better-sqlite3 becomes the shim, any other `.node` file a module that throws (ssh2 and cpu-features fall back to JavaScript). */
const noNativeCode: Plugin = {
  name: 'lotse-no-native-code',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: 'better-sqlite3', namespace: 'lotse-shim' }));
    b.onLoad({ filter: /.*/, namespace: 'lotse-shim' }, () => ({ contents: SQLITE_SHIM, loader: 'js' }));
    b.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, namespace: 'lotse-native' }));
    b.onLoad({ filter: /.*/, namespace: 'lotse-native' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`native addon ${args.path} is not part of the lotse bundle`)});`,
      loader: 'js',
    }));
  },
};

/**
 * etcd3 reads its .proto files next to its own sources at load time; in a single-file bundle they
 * are embedded and written once to a temp directory when the etcd client first loads.
 */
const etcdProtos: Plugin = {
  name: 'lotse-etcd3-protos',
  setup(b) {
    b.onLoad({ filter: /etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
      const protoDir = join(dirname(args.path), '..', 'proto');
      const files = Object.fromEntries(['rpc.proto', 'kv.proto', 'auth.proto'].map((f) => [f, readFileSync(join(protoDir, f), 'utf8')]));
      const source = readFileSync(args.path, 'utf8');
      const wanted = '`${__dirname}/../proto/rpc.proto`';
      if (!source.includes(wanted)) throw new Error(`etcd3 no longer loads ${wanted}; update payload/lotse-bundle.ts`);
      const writer = `function __lotseEtcdProtos() {
  const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
  const files = ${JSON.stringify(files)};
  const dir = path.join(os.tmpdir(), 'lotse-etcd3-proto-' + ${JSON.stringify(createHash('sha256').update(JSON.stringify(files)).digest('hex').slice(0, 12))});
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, 'rpc.proto');
}
`;
      return { contents: writer + source.replace(wanted, '__lotseEtcdProtos()'), loader: 'js' };
    });
  },
};

/**
 * The master picks a kubernetes-models validator per kind with a computed require(), which a
 * bundler cannot follow; the bundle gets one static require per validator of the built-in
 * resources (read from the resource table itself, so a validator written as a template string is
 * not missed: the rehearsal found ClusterRole's missing, which broke RBAC writes on hosts).
 */
const kubernetesModels: Plugin = {
  name: 'lotse-kubernetes-models',
  setup(b) {
    b.onLoad({ filter: /master[\\/]api[\\/]validation\.[jt]s$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const wanted = 'require(`kubernetes-models/${modelPath}`)';
      if (!source.includes(wanted)) throw new Error(`${args.path} no longer loads validators with ${wanted}; update payload/lotse-bundle.ts`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { resources } = require('../master/api/resources') as typeof import('../master/api/resources');
      const paths = [...new Set(resources.map((r) => r.validator).filter((v) => v !== ''))];
      const cases = paths.map((p) => `    case ${JSON.stringify(p)}: return require(${JSON.stringify(`kubernetes-models/${p}`)});`).join('\n');
      const loader = `\nfunction __lotseModel(path) {\n  switch (path) {\n${cases}\n    default: throw new Error('no kubernetes-models validator bundled for ' + path);\n  }\n}\n`;
      return { contents: source.replace(wanted, '__lotseModel(modelPath)') + loader, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

/**
 * Files a module reads beside itself at run time travel inside the bundle (a host has only
 * lotse.js): OpenAPI's descriptions, still parsed only when OpenAPI is first served.
 */
const besideFiles: Plugin = {
  name: 'lotse-beside-files',
  setup(b) {
    b.onLoad({ filter: /master[\\/]api[\\/]openapi[\\/]descriptions\.[jt]s$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const wanted = /(?:readFileSync|\(0, node_fs_1\.readFileSync\))\(\s*(?:join|\(0, node_path_1\.join\))\(__dirname, 'descriptions\.json'\), 'utf8'\)/;
      if (!wanted.test(source)) throw new Error(`${args.path} no longer reads descriptions.json beside itself; update payload/lotse-bundle.ts`);
      const text = readFileSync(join(dirname(args.path), 'descriptions.json'), 'utf8');
      return { contents: source.replace(wanted, () => `(${JSON.stringify(text)})`), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

/**
 * dockerode requires two modules at load that an agent on a unix socket never calls: docker-modem's
 * ssh:// transport (ssh2 and its crypto) and dockerode's BuildKit session (gRPC and protobufjs). In
 * the bundle each becomes a function that requires its module on the first call, as
 * agent/runtime/dockerode-loader.ts does where dockerode is a file: an ssh:// engine or a build
 * still works, and an idle agent does not hold them (bench/RESULTS.md, agent idle RSS).
 */
const deferredDockerModules: Plugin = {
  name: 'lotse-deferred-docker-modules',
  setup(b) {
    const deferred: Array<[RegExp, string]> = [[/dockerode[\\/]lib[\\/]docker\.js$/, "require('./session')"], [/docker-modem[\\/]lib[\\/]modem\.js$/, "require('./ssh')"]];
    for (const [filter, wanted] of deferred) {
      b.onLoad({ filter }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes(wanted)) throw new Error(`${args.path} no longer loads ${wanted}; update payload/lotse-bundle.ts`);
        return { contents: source.replace(wanted, `function () { return ${wanted}.apply(this, arguments); }`), loader: 'js' };
      });
    }
  },
};

/** The package root (where package.json is), from this file in payload/ or dist/payload/. */
function packageRoot(): string {
  // From the source or compiled tree, walk up from here; when this code is itself bundled
  // (benchmarks), the working directory is the checkout.
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (let i = 0; i < 4; i += 1) {
      if (existsSync(join(dir, 'cli', 'main.ts')) || existsSync(join(dir, 'dist', 'cli', 'main.js'))) return dir;
      dir = dirname(dir);
    }
  }
  throw new Error(`cannot find lotse's sources above ${__dirname} or ${process.cwd()}; set LOTSE_BUNDLE to a prebuilt lotse.js`);
}

/**
 * Builds `lotse.js`, one JavaScript file holding the whole `lotse` command, into
 * `$LOTSE_HOME/bundle/`. LOTSE_BUNDLE names a prebuilt file instead (e.g. a release artefact).
 */
export async function buildBundle(outFile = join(lotseHome(), 'bundle', 'lotse.js')): Promise<Bundle> {
  const prebuilt = process.env.LOTSE_BUNDLE;
  if (prebuilt) return readBundle(resolve(prebuilt));
  // Running from lotse.js itself (no sources around): it is the bundle to deliver.
  if (process.env.LOTSE_RUNNING_BUNDLE === 'yes') return readBundle(__filename);
  const root = packageRoot();
  const entries = [
    { main: join(root, 'cli', 'main.ts'), agent: join(root, 'cli', 'agent-main.ts') },
    { main: join(root, 'dist', 'cli', 'main.js'), agent: join(root, 'dist', 'cli', 'agent-main.js') },
  ].find((e) => existsSync(e.main) && existsSync(e.agent));
  if (!entries) throw new Error(`neither cli/main.ts and cli/agent-main.ts nor their dist/cli/ builds exist under ${root}; run npm run build or set LOTSE_BUNDLE`);
  if (basename(outFile) === AGENT_BUNDLE_FILE) throw new Error(`${outFile}: that name is the agent's bundle beside lotse.js; pick another`);
  mkdirSync(dirname(outFile), { recursive: true });
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  // Loaded lazily: the bundle itself contains this file, and esbuild (a native binary) stays outside it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  // One bundle per bootstrap: the esbuild service is stopped after it rather than left running.
  // Two entry points, two self-contained files (no splitting: each must run alone on a host).
  const result = await esbuild.build({
    external: ['esbuild'],
    entryPoints: { [basename(outFile, '.js')]: entries.main, [basename(AGENT_BUNDLE_FILE, '.js')]: entries.agent },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outdir: dirname(outFile),
    outExtension: { '.js': '.js' },
    plugins: [noNativeCode, etcdProtos, kubernetesModels, besideFiles, deferredDockerModules],
    logLevel: 'silent',
    legalComments: 'none',
    // Without comments (and indentation) the bundle is plain ASCII, since esbuild escapes the rest:
    // Node then holds its source, which every process keeps for its lifetime, as one byte per
    // character instead of two, and a third smaller (an idle agent: -15 MB RSS, bench/RESULTS.md).
    // Names stay, so stack traces still name their functions.
    minifyWhitespace: true,
    metafile: true,
    // Compiled into the bundle only, so that code knows it is the bundle.
    // The dashboard travels inside too, when it has been built (npm run build), since a
    // bootstrapped master has no dist/ to serve it from.
    define: { 'process.env.LOTSE_RUNNING_BUNDLE': '"yes"', ...dashboardDefine() },
    // The CLI entry point, run: bin/lotse does the same with the compiled tree.
    footer: { js: `\nif (require.main === module) module.exports.main(process.argv).catch((err) => { process.stderr.write('lotse: ' + (err && err.message ? err.message : String(err)) + '\\n'); process.exit(1); });` },
    banner: { js: `// lotse ${version}: bundled by lotse bootstrap; runs with Node.js 20 or later on any CPU.` },
  }).finally(() => esbuild.stop());
  if (result.errors.length > 0) throw new Error(`cannot bundle lotse: ${result.errors.map((e) => e.text).join('; ')}`);
  // Only files read from disk count; shimmed modules live in their own esbuild namespaces.
  return { ...readBundle(outFile), inputs: Object.keys(result.metafile?.inputs ?? {}).filter((p) => !/^[a-z-]+:/.test(p)) };
}

function dashboardDefine(): Record<string, string> {
  const embedded = embeddableDashboard();
  return embedded ? { 'process.env.LOTSE_DASHBOARD_EMBEDDED': JSON.stringify(embedded) } : {};
}

function readBundle(path: string): Bundle {
  const beside = join(dirname(path), AGENT_BUNDLE_FILE);
  return { ...readBundleFile(path), agent: readBundleFile(existsSync(beside) ? beside : path), inputs: [] };
}

function readBundleFile(path: string): BundleFile {
  const content = readFileSync(path);
  return { path, content, sha256: createHash('sha256').update(content).digest('hex') };
}
