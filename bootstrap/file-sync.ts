import { createHash } from 'node:crypto';
import type { HostFile } from './host-files';
import { NODE_LAYOUT } from '../cluster/node-layout';
import type { SshConnection } from './ssh-connection';

/** How to run a command as root on a host: directly, or through `sudo -n` for a login like `core`. */
export interface RootShell {
  conn: SshConnection;
  root: boolean;
}

export function asRoot(shell: RootShell, script: string): string {
  const quoted = `'${script.replace(/'/g, `'\\''`)}'`;
  return shell.root ? `sh -c ${quoted}` : `sudo -n sh -c ${quoted}`;
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** One shell line printing `MODE SHA256 PATH` for a file that exists. */
export function fileDigestLine(path: string): string {
  return `if [ -f ${q(path)} ]; then echo "$(stat -c %a ${q(path)}) $(sha256sum < ${q(path)} | cut -d' ' -f1) ${path}"; fi`;
}

/** Parses fileDigestLine output into path -> "MODE SHA256". */
export function parseDigests(listing: string): Map<string, string> {
  return new Map(
    listing
      .split('\n')
      .filter((l) => /^\d+ [0-9a-f]{64} /.test(l))
      .map((line) => {
        const [mode, hash, ...path] = line.split(' ');
        return [path.join(' '), `${mode} ${hash}`] as const;
      }),
  );
}

export function needsUpdate(have: Map<string, string>, f: HostFile): boolean {
  return have.get(f.path) !== `${f.mode.toString(8)} ${sha256(f.content)}`;
}

/**
 * Uploads files into the staging directory over SFTP and returns the shell lines that move them
 * into place with `install` (run as root), so a file is never seen half-written and non-root
 * logins work through sudo.
 */
export async function stageFiles(shell: RootShell, files: HostFile[]): Promise<string[]> {
  if (files.length === 0) return [];
  const staging = stagingDir(shell);
  await shell.conn.run(`mkdir -p ${staging} && chmod 700 ${staging}`, 'preparing the upload directory');
  for (const f of files) await shell.conn.writeFile(`${staging}/${sha256(f.content)}`, f.content, 0o600);
  return [
    ...files.map((f) => `install -D -m ${f.mode.toString(8)} ${staging}/${sha256(f.content)} ${q(f.path)}`),
    `rm -f ${files.map((f) => `${staging}/${sha256(f.content)}`).join(' ')}`,
  ];
}

/** Where uploads wait before `install` moves them (root: under /var/lib/lotse; a sudo login: its /tmp). */
export function stagingDir(shell: RootShell): string {
  return shell.root ? NODE_LAYOUT.staging : '/tmp/lotse-staging';
}

/**
 * Installs the files whose content or mode differ from what the host has, and returns their
 * paths (empty: no change).
 */
export async function syncFiles(shell: RootShell, files: HostFile[], what: string): Promise<string[]> {
  if (files.length === 0) return [];
  const listing = await shell.conn.run(asRoot(shell, files.map((f) => fileDigestLine(f.path)).join('\n')), `checking the ${what} already on the host`);
  const have = parseDigests(listing);
  const changed = files.filter((f) => needsUpdate(have, f));
  if (changed.length === 0) return [];
  const moves = await stageFiles(shell, changed);
  await shell.conn.run(asRoot(shell, `set -e\n${moves.join('\n')}`), `installing the ${what}`);
  return changed.map((f) => f.path);
}
