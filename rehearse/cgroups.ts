import { existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

/**
 * Where each hierarchy is mounted. On a cgroup v1 (hybrid) machine systemd-nspawn, started by a
 * process that is not under systemd, would create `/payload` and `/supervisor` at the root of every
 * hierarchy, shared by all hosts; so each host gets a cgroup of its own in every hierarchy first.
 */
function hierarchies(): string[] {
  if (existsSync(join(ROOT, 'cgroup.controllers'))) return [ROOT];
  return readdirSync(ROOT).map((d) => join(ROOT, d)).filter((d) => existsSync(join(d, 'cgroup.procs')));
}

/** The `cgroup.procs` files a host's nspawn joins before it starts, creating the cgroups. */
export function createHostCgroups(name: string): string[] {
  const procs: string[] = [];
  for (const hierarchy of hierarchies()) {
    const dir = join(hierarchy, name);
    mkdirSync(dir, { recursive: true });
    // A new cpuset cgroup has no CPUs or memory nodes until given its parent's.
    if (existsSync(join(dir, 'cpuset.cpus')) && readFileSync(join(dir, 'cpuset.cpus'), 'utf8').trim() === '') {
      writeFileSync(join(dir, 'cpuset.cpus'), readFileSync(join(hierarchy, 'cpuset.cpus'), 'utf8'));
      writeFileSync(join(dir, 'cpuset.mems'), readFileSync(join(hierarchy, 'cpuset.mems'), 'utf8'));
    }
    procs.push(join(dir, 'cgroup.procs'));
  }
  return procs;
}

function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(join(dir, entry.name));
  try {
    rmdirSync(dir);
  } catch {
    // Still has processes (a host that is shutting down); the next --down removes it.
  }
}

/** Removes a host's cgroups depth-first; they must be empty (the host is down). */
export function removeHostCgroups(name: string): void {
  for (const hierarchy of hierarchies()) removeTree(join(hierarchy, name));
}

/** Memory charged to a host (its systemd, sshd, engine, containers), in bytes; undefined without a memory controller. */
export function hostMemoryBytes(name: string): number | undefined {
  for (const file of [join(ROOT, 'memory', name, 'memory.usage_in_bytes'), join(ROOT, name, 'memory.current')]) {
    if (existsSync(file)) return Number(readFileSync(file, 'utf8').trim());
  }
  return undefined;
}

function procsIn(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const nested = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => procsIn(join(dir, e.name)));
  return [...own, ...nested];
}

/**
 * Processes still in a host's cgroups after nspawn is gone (a host's systemd outlives a killed
 * nspawn): every one of them belongs to that host, so they are killed before the cgroups go.
 */
export function killHostProcesses(name: string): number {
  const pids = new Set(hierarchies().flatMap((h) => procsIn(join(h, name))));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  return pids.size;
}
