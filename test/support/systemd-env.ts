import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * What systemd's own EnvironmentFile= parser makes of each file: a real `systemd --user` manager
 * starts one oneshot service per file that dumps its environment. PID 1 here is not systemd, and
 * systemd refuses to run a user manager unless /run/systemd/system exists, so the manager runs in
 * a private mount namespace with a tmpfs over /run/systemd (the machine's own stays untouched).
 * Needs root (unshare) and /lib/systemd/systemd.
 */
export async function systemdEnvironments(files: readonly string[]): Promise<Array<Record<string, string>>> {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-systemd-env-'));
  try {
    const units = join(dir, 'config', 'systemd', 'user');
    mkdirSync(units, { recursive: true });
    mkdirSync(join(dir, 'runtime'), { mode: 0o700 });
    files.forEach((file, i) => {
      writeFileSync(join(units, `envprobe-${i}.service`), `[Service]\nType=oneshot\nEnvironmentFile=${file}\nExecStart=/bin/sh -c 'env > ${join(dir, `out-${i}`)}'\n`);
    });
    const script = `set -e
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system
export XDG_RUNTIME_DIR=${dir}/runtime XDG_CONFIG_HOME=${dir}/config
/lib/systemd/systemd --user > ${dir}/manager.log 2>&1 &
manager=$!
i=0; until [ -S $XDG_RUNTIME_DIR/systemd/private ]; do i=$((i+1)); [ $i -lt 100 ] || { echo "systemd --user did not start" >&2; cat ${dir}/manager.log >&2; exit 1; }; sleep 0.1; done
status=0
systemctl --user start ${files.map((_, i) => `envprobe-${i}.service`).join(' ')} || status=$?
kill $manager; wait $manager || true
exit $status`;
    await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { timeout: 30_000 });
    return files.map((_, i) => parseEnv(readFileSync(join(dir, `out-${i}`), 'utf8')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `env` output as a map (values here hold no newlines). */
export function parseEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return vars;
}
