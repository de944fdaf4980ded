import { createHash } from 'node:crypto';
import type { HostFile } from './host-files';
import { REMOTE } from './remote-paths';
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

/**
 * Installs the files whose content or mode differ from what the host has, and returns their
 * paths (empty: no change). Content travels over SFTP into a staging directory and is moved into
 * place with `install`, so a file is never seen half-written and non-root logins work with sudo.
 */
export async function syncFiles(shell: RootShell, files: HostFile[], what: string): Promise<string[]> {
  if (files.length === 0) return [];
  const listing = await shell.conn.run(
    asRoot(shell, files.map((f) => `if [ -f ${q(f.path)} ]; then echo "$(stat -c %a ${q(f.path)}) $(sha256sum < ${q(f.path)} | cut -d' ' -f1) ${f.path}"; fi`).join('\n')),
    `checking the ${what} already on the host`,
  );
  const have = new Map(
    listing
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [mode, hash, ...path] = line.split(' ');
        return [path.join(' '), `${mode} ${hash}`] as const;
      }),
  );
  const changed = files.filter((f) => have.get(f.path) !== `${f.mode.toString(8)} ${sha256(f.content)}`);
  if (changed.length === 0) return [];
  const staging = shell.root ? REMOTE.staging : '/tmp/lotse-staging';
  await shell.conn.run(`mkdir -p ${staging} && chmod 700 ${staging}`, 'preparing the upload directory');
  for (const f of changed) await shell.conn.writeFile(`${staging}/${sha256(f.content)}`, f.content, 0o600);
  const moves = changed.map((f) => `install -D -m ${f.mode.toString(8)} ${staging}/${sha256(f.content)} ${q(f.path)}`);
  await shell.conn.run(asRoot(shell, `set -e\n${moves.join('\n')}\nrm -f ${changed.map((f) => `${staging}/${sha256(f.content)}`).join(' ')}`), `installing the ${what}`);
  return changed.map((f) => f.path);
}
