import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHostCgroups, killHostProcesses, removeHostCgroups } from './cgroups';
import { type CommandResult, run, type RunOptions } from './command-runner';

/** One machine of the stack as it runs here; kept in the rehearsal's state file between commands. */
export interface HostRecord {
  readonly name: string;
  readonly role: 'master' | 'worker';
  readonly address: string;
  /** Folder with its overlay layers, engine storage, Ignition logs and nspawn's output. */
  readonly dir: string;
  /** Its network namespace (eth0 inside, on the lab bridge). */
  readonly namespace: string;
  /** Name of its cgroup in every hierarchy. */
  readonly cgroup: string;
  nspawnPid?: number;
  /** PID of the host's systemd (PID 1 inside), for nsenter and power-off. */
  leaderPid?: number;
}

export const hostPaths = (host: HostRecord) => ({
  upper: join(host.dir, 'upper'),
  work: join(host.dir, 'work'),
  // Ignition writes a user's files as that user, so every folder above the root must be
  // traversable by others; LOTSE_HOME is 0700, so the root is mounted under /run.
  root: join('/run/lotse-rehearse', host.cgroup),
  podmanStorage: join(host.dir, 'containers'),
  dockerStorage: join(host.dir, 'docker'),
  ignition: join(host.dir, 'ignition'),
  console: join(host.dir, 'nspawn.log'),
});

async function isMounted(path: string): Promise<boolean> {
  return (await run(['mountpoint', '-q', path], { allowFailure: true })).code === 0;
}

/**
 * The host's root: an overlay on the shared image with an upper layer of its own, fresh for each
 * rehearsal (as a new VM gets a fresh disk). Engine storage is a plain folder bound in: overlayfs
 * cannot be an upper layer of the engines' own overlay storage.
 */
export async function mountHostRoot(host: HostRecord, image: string, fresh: boolean): Promise<void> {
  const p = hostPaths(host);
  if (await isMounted(p.root)) await run(['umount', p.root]);
  if (fresh) for (const dir of [p.upper, p.work, p.podmanStorage, p.dockerStorage, p.ignition]) rmSync(dir, { recursive: true, force: true });
  for (const dir of [p.work, p.podmanStorage, p.dockerStorage]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The overlay's root takes the upper layer's mode: 0755 like any root directory.
  for (const dir of [p.upper, p.root]) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
  }
  await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${image},upperdir=${p.upper},workdir=${p.work}`, p.root]);
  await indexBuiltinModules(p.root);
}

/**
 * A kernel with vxlan, overlay etc. built in and no /lib/modules (as in some VMs) makes
 * `modprobe vxlan` fail although the module is there. The host gets an index of the modules this
 * kernel really has built in (from /sys/module), so modprobe answers as it would for a distro kernel.
 */
async function indexBuiltinModules(root: string): Promise<void> {
  const release = (await run(['uname', '-r'])).stdout.trim();
  if (existsSync(join('/lib/modules', release))) return;
  const dir = join(root, 'lib/modules', release);
  mkdirSync(dir, { recursive: true });
  const builtin = readdirSync('/sys/module').filter((m) => !existsSync(join('/sys/module', m, 'initstate')));
  writeFileSync(join(dir, 'modules.builtin'), builtin.map((m) => `kernel/${m}.ko\n`).join(''));
  writeFileSync(join(dir, 'modules.order'), '');
  await run(['chroot', root, '/sbin/depmod', release]);
}

/** The flags that boot these hosts on this kind of machine (cgroup v1, not under systemd). */
function nspawnArgs(host: HostRecord): string[] {
  const p = hostPaths(host);
  return [
    'systemd-nspawn', '--boot', '--quiet',
    // PID 1 here is not systemd: registering with machined or asking it for a scope fails.
    '--register=no', '--keep-unit',
    '--console=passive', `--machine=${host.name}`, `--directory=${p.root}`,
    `--network-namespace-path=/run/netns/${host.namespace}`,
    // Engines inside need every capability, the host's real uids, and runc needs the keyring calls.
    '--capability=all', '--private-users=no',
    '--system-call-filter=@mount @privileged @module @raw-io @clock @swap @keyring bpf perf_event_open',
    '--bind=/dev/fuse', '--bind=/dev/net/tun',
    ...(existsSync('/lib/modules') ? ['--bind-ro=/lib/modules'] : []),
    `--bind=${p.podmanStorage}:/var/lib/containers`, `--bind=${p.dockerStorage}:/var/lib/docker`,
  ];
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    // A reused PID is not our host: check it is still systemd-nspawn.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('systemd-nspawn');
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why a host did not come up, with nspawn's last output. */
export class HostBootError extends Error {}

/**
 * Starts the host's systemd-nspawn detached from lotse (hosts outlive `lotse rehearse --keep`),
 * inside its own cgroups, and returns once its systemd is PID 1.
 */
export async function startHost(host: HostRecord): Promise<void> {
  const p = hostPaths(host);
  const procs = createHostCgroups(host.cgroup);
  const log = openSync(p.console, 'a');
  // The small shell joins the cgroups and then becomes nspawn (exec), so the PID kept is nspawn's.
  const child = spawn('/bin/sh', ['-c', 'for f in $LOTSE_CGROUP_PROCS; do echo $$ > "$f"; done; exec "$@"', 'lotse-rehearse-host', ...nspawnArgs(host)], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LOTSE_CGROUP_PROCS: procs.join(' ') },
  });
  closeSync(log);
  child.unref();
  host.nspawnPid = child.pid;
  host.leaderPid = undefined;
  for (let i = 0; i < 200 && !host.leaderPid; i++) {
    await sleep(50);
    if (i > 4 && !isAlive(host.nspawnPid)) break;
    // nspawn forks a short-lived helper first; the host's PID 1 is the child that is systemd.
    host.leaderPid = childrenOf(host.nspawnPid ?? 0).find((pid) => commandName(pid) === 'systemd');
  }
  if (!host.leaderPid) {
    throw new HostBootError(`${host.name}: systemd-nspawn did not start its systemd; its output (${p.console}):\n    ${tail(p.console, 10)}`);
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n    ');
  } catch {
    return '(no output)';
  }
}

/** Runs a command inside the host (all its namespaces), as its root. */
export function hostExec(host: HostRecord, argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  if (!host.leaderPid) throw new Error(`${host.name} is not running (lotse rehearse --power-on ${host.name})`);
  return run(['nsenter', '-t', String(host.leaderPid), '-a', ...argv], options);
}

/** The last lines of a unit's journal on the host: what a failing step shows. */
export async function journalTail(host: HostRecord, unit: string, lines = 15): Promise<string> {
  const r = await hostExec(host, ['journalctl', '--no-pager', '-o', 'short', '-n', String(lines), '-u', unit], { allowFailure: true, timeoutMs: 10000 });
  return (r.stdout || r.stderr).trim();
}

/** Waits for systemd to finish booting; a degraded boot names its failed units and their journals. */
export async function waitForBoot(host: HostRecord, timeoutMs = 120000): Promise<{ state: string; ms: number }> {
  const started = Date.now();
  let state = '';
  while (Date.now() - started < timeoutMs) {
    if (!isAlive(host.nspawnPid)) throw new HostBootError(`${host.name}: the host stopped while booting; nspawn's output:\n    ${tail(hostPaths(host).console, 10)}`);
    state = (await hostExec(host, ['systemctl', 'is-system-running'], { allowFailure: true, timeoutMs: 10000 })).stdout.trim();
    if (state === 'running' || state === 'degraded') break;
    await sleep(200);
  }
  if (state === 'running') return { state, ms: Date.now() - started };
  const failed = (await hostExec(host, ['systemctl', '--failed', '--plain', '--no-legend'], { allowFailure: true })).stdout.trim();
  const units = failed.split('\n').map((l) => l.split(/\s+/)[0]).filter(Boolean);
  const journals = await Promise.all(units.slice(0, 3).map(async (u) => `  ${u}:\n    ${(await journalTail(host, u, 8)).replace(/\n/g, '\n    ')}`));
  if (state === 'degraded') return { state: `degraded (failed: ${units.join(', ')})\n${journals.join('\n')}`, ms: Date.now() - started };
  const jobs = (await hostExec(host, ['systemctl', 'list-jobs', '--no-legend'], { allowFailure: true })).stdout.trim().split('\n').slice(0, 5).join('\n    ');
  throw new HostBootError(`${host.name}: not booted after ${timeoutMs / 1000} s (state "${state}"); pending jobs:\n    ${jobs}\n${journals.join('\n')}`);
}

/**
 * Powers the host off as a console's "stop" would: systemd shuts down its units in order; after
 * the grace period its PID 1 is killed, then nspawn.
 */
export async function stopHost(host: HostRecord, graceMs = 15000): Promise<void> {
  if (!isAlive(host.nspawnPid)) return;
  if (host.leaderPid) await hostExec(host, ['systemctl', 'poweroff', '--no-block'], { allowFailure: true, timeoutMs: 5000 });
  for (let t = 0; t < graceMs && isAlive(host.nspawnPid); t += 100) await sleep(100);
  if (isAlive(host.nspawnPid) && host.leaderPid) {
    try { process.kill(host.leaderPid, 'SIGKILL'); } catch { /* already gone */ }
  }
  for (let t = 0; t < 5000 && isAlive(host.nspawnPid); t += 100) await sleep(100);
  if (isAlive(host.nspawnPid) && host.nspawnPid) process.kill(host.nspawnPid, 'SIGKILL');
  for (let t = 0; t < 3000 && isAlive(host.nspawnPid); t += 100) await sleep(100);
  // Whatever of the host survived its nspawn (it is all in the host's cgroups) goes too.
  killHostProcesses(host.cgroup);
  host.leaderPid = undefined;
  host.nspawnPid = undefined;
}

function mountsUnder(dirs: readonly string[]): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean);
  return points.filter((m) => dirs.some((d) => m === d || m.startsWith(`${d}/`)));
}

/** Stops the host and removes everything it had here: mounts, cgroups, its folder. */
export async function destroyHost(host: HostRecord): Promise<void> {
  await stopHost(host);
  const p = hostPaths(host);
  // Deepest first: whatever is mounted in the host's folders (its root, or a left-over of an older run).
  for (const mount of mountsUnder([host.dir, p.root]).reverse()) {
    const r = await run(['umount', mount], { allowFailure: true });
    if (r.code !== 0) await run(['umount', '-l', mount], { allowFailure: true });
  }
  for (let i = 0; i < 10; i++) {
    killHostProcesses(host.cgroup);
    removeHostCgroups(host.cgroup);
    if (!existsSync(`/sys/fs/cgroup/pids/${host.cgroup}`)) break;
    await sleep(300);
  }
  rmSync(host.dir, { recursive: true, force: true });
  rmSync(p.root, { recursive: true, force: true });
}
