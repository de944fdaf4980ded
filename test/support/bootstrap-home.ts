import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StepEvent } from '../../bootstrap/host-steps';
import { NodeBuildShelf } from '../../bootstrap/node-install';
import type { BootstrapOptions } from '../../bootstrap/run-bootstrap';
import { buildBundle, type Bundle } from '../../payload/lotse-bundle';

/**
 * The pinned Node.js builds are cached in the repository's git-ignored .cache (as the node24 store
 * test does), so CI downloads them once whatever LOTSE_HOME a test uses.
 */
export const NODE_CACHE = join(__dirname, '../../.cache/node');

/** What a bootstrap test over SSH keeps on this machine: a LOTSE_HOME of its own and the bundle it ships. */
export interface BootstrapHome {
  home: string;
  kubeconfig: string;
  bundle: Bundle;
  /**
   * The options every test run shares (hosts here are up: a short SSH wait; tests that need the
   * wait for a booting machine set it themselves); steps go to onStep.
   */
  options(onStep: (e: StepEvent) => void, extra?: Partial<BootstrapOptions>): BootstrapOptions;
  /** Removes the home and unsets LOTSE_HOME. */
  remove(): void;
}

/** Sets LOTSE_HOME to a new directory, fetches Node.js for amd64 (once per machine) and builds the bundle. */
export async function prepareBootstrapHome(): Promise<BootstrapHome> {
  const home = mkdtempSync(join(tmpdir(), 'lotse-home-'));
  process.env.LOTSE_HOME = home;
  const kubeconfig = join(home, 'kubeconfig');
  const shelf = new NodeBuildShelf({ cacheDir: NODE_CACHE, timeoutMs: 480_000 });
  // The first download (about 30 MB) happens here, outside the tests' own time limits.
  await shelf.get('amd64');
  mkdirSync(join(home, 'cache'), { recursive: true });
  symlinkSync(NODE_CACHE, join(home, 'cache', 'node'));
  const bundle = await buildBundle(join(home, 'bundle', 'lotse.js'));
  return {
    home,
    kubeconfig,
    bundle,
    options: (onStep, extra = {}) => ({
      nodeBuilds: shelf,
      onStep,
      onNotice: () => undefined,
      kubeconfigPath: kubeconfig,
      readyTimeoutMs: 60_000,
      connectTimeoutMs: 5000,
      sshWaitMs: 1000,
      sshRetryMs: 250,
      bundle,
      ...extra,
    }),
    remove: () => {
      rmSync(home, { recursive: true, force: true });
      delete process.env.LOTSE_HOME;
    },
  };
}
