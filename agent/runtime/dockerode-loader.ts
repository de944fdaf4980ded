import Module from 'node:module';
import path from 'node:path';
import type Docker from 'dockerode';

/**
 * Loads dockerode without the two modules it requires eagerly but the agent never uses: docker-modem's
 * ssh:// transport (ssh2 and its crypto) and dockerode's BuildKit session (gRPC and protobufjs).
 * Measured on Node 20: require('dockerode') adds ~20 MB RSS, ~7 MB with these deferred (bench/RESULTS.md). Each is replaced in the module cache by a stand-in function that loads the real module on
 * its first call, so an ssh:// endpoint or a BuildKit build still works, just paying then.
 *
 * Where there is no node_modules to resolve against (lotse.js, the esbuild bundle of bootstrap), the
 * module cache is not the bundle's and dockerode loads as it is.
 */
export function loadDockerode(): typeof Docker {
  try {
    const dockerode = require.resolve('dockerode');
    const modem = require.resolve('docker-modem', { paths: [path.dirname(dockerode)] });
    deferCall(path.join(path.dirname(dockerode), 'session.js'));
    deferCall(path.join(path.dirname(modem), 'ssh.js'));
  } catch {
    // Not resolvable as files (bundled): nothing to defer.
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('dockerode') as typeof Docker;
}

/** Puts a stand-in for a module that exports one function, unless the real one is loaded already. */
function deferCall(file: string): void {
  if (require.cache[file]) return;
  let real: ((...args: unknown[]) => unknown) | undefined;
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (!real) {
      delete require.cache[file];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      real = require(file) as (...a: unknown[]) => unknown;
    }
    return real.apply(this, args);
  };
  require.cache[file] = stub;
}
