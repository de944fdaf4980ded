import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** `$LOTSE_HOME` (default `~/.lotse`): where lotse keeps what it knows about clusters on this machine. */
export function lotseHome(): string {
  return resolve(process.env.LOTSE_HOME ?? join(homedir(), '.lotse'));
}

/**
 * `$LOTSE_HOME/clusters/NAME`: the cluster's PKI, tokens and pinned host keys. Created 0700 because
 * it holds the CA key; an existing directory is tightened too, in case someone loosened it.
 */
export function clusterDir(clusterName: string): string {
  const dir = join(lotseHome(), 'clusters', clusterName);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}
