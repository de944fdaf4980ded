import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './command-runner';
import { rehearseHome } from './rehearse-home';

/** Debian's `ignition` package ships the upstream binary inside its dracut module. */
export const IGNITION_BINARY = '/usr/lib/dracut/modules.d/30ignition/ignition';

/**
 * Ignition 2.14 (Debian 12) knows spec 3.4.0 only by its pre-release name. The two describe the
 * same schema, so the rehearsal changes this one string and nothing else; any other version
 * passes unchanged (and 2.14 judges it).
 */
export function versionFor214(config: string): string {
  const parsed = JSON.parse(config) as { ignition?: { version?: string } };
  if (parsed.ignition?.version !== '3.4.0') return config;
  parsed.ignition.version = '3.4.0-experimental';
  return JSON.stringify(parsed);
}

const SETFILES_SHIM = '#!/bin/sh\n# lotse rehearse: hosts run without SELinux; Ignition relabels after its files stage.\ncat >/dev/null\nexit 0\n';

/**
 * The hosts have no SELinux, but Ignition 2.14 runs `setfiles` after writing files: a no-op one.
 * Hosts boot in parallel and one may be running the shim while another gets here: it is written
 * only when missing or different, through a rename (writing over a running executable fails
 * with ETXTBSY).
 */
function setfilesShimDir(): string {
  const dir = join(rehearseHome(), 'bin');
  const file = join(dir, 'setfiles');
  mkdirSync(dir, { recursive: true });
  if (existsSync(file) && readFileSync(file, 'utf8') === SETFILES_SHIM) return dir;
  const temp = `${file}.${process.pid}.${Date.now()}`;
  writeFileSync(temp, SETFILES_SHIM, { mode: 0o755 });
  renameSync(temp, file);
  return dir;
}

/** An Ignition stage that failed: its last log lines say which file, unit or user was refused. */
export class IgnitionError extends Error {}

/**
 * Runs the upstream Ignition binary on a host's root directory, as the initramfs of FCOS/Flatcar
 * would on first boot: `fetch-offline` (reads and validates the config from the `file` platform),
 * then `files` (users, SSH keys, files, directories, units and their presets). The disks, mount
 * and kargs stages do not apply to a host sharing this machine's kernel and file system.
 */
export async function applyIgnition(configText: string, root: string, workDir: string): Promise<{ ms: number }> {
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const configFile = join(workDir, 'config.ign');
  writeFileSync(configFile, versionFor214(configText), { mode: 0o600 });
  const env = { ...process.env, IGNITION_CONFIG_FILE: configFile, PATH: `${setfilesShimDir()}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  const started = Date.now();
  for (const stage of ['fetch-offline', 'files']) {
    const argv = [IGNITION_BINARY, '-platform', 'file', '-stage', stage, '-root', root,
      '-config-cache', join(workDir, 'cache.json'), '-state-file', join(workDir, 'state'), '-log-to-stdout'];
    const result = await run(argv, { env, allowFailure: true });
    writeFileSync(join(workDir, `${stage}.log`), result.stdout + result.stderr);
    if (result.code !== 0) {
      const tail = (result.stdout + result.stderr).split('\n').filter((l) => /CRITICAL|ERROR|WARNING|error/i.test(l)).slice(-5).join('\n    ');
      throw new IgnitionError(`Ignition stage "${stage}" failed (full log: ${join(workDir, `${stage}.log`)}):\n    ${tail}`);
    }
  }
  return { ms: Date.now() - started };
}

/** Reads the hostname a config writes to /etc/hostname, which names the machine it belongs to. */
export function hostnameIn(configText: string): string | undefined {
  const parsed = JSON.parse(configText) as { storage?: { files?: Array<{ path: string; contents?: { source?: string } }> } };
  const file = parsed.storage?.files?.find((f) => f.path === '/etc/hostname');
  const source = file?.contents?.source;
  if (!source?.startsWith('data:')) return undefined;
  const comma = source.indexOf(',');
  const meta = source.slice(5, comma);
  const body = source.slice(comma + 1);
  const text = meta.endsWith(';base64') ? Buffer.from(body, 'base64').toString() : decodeURIComponent(body);
  return text.trim() || undefined;
}
