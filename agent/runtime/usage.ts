import type Docker from 'dockerode';
import type { ContainerUsage } from './container-runtime';

interface EngineStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/**
 * One reading of the engine's stats (`stream=false`: docker waits for a second sample, podman
 * answers at once; only the cumulative CPU time is used, so both serve). The working set is the
 * usage less the inactive file cache, as cAdvisor computes it (cgroup v2: inactive_file; v1:
 * total_inactive_file).
 */
export async function containerUsage(docker: Docker, id: string): Promise<ContainerUsage | undefined> {
  let stats: EngineStats;
  try {
    stats = (await docker.getContainer(id).stats({ stream: false })) as unknown as EngineStats;
  } catch {
    return undefined; // gone or stopped meanwhile: nothing to report
  }
  const cpu = stats.cpu_stats?.cpu_usage?.total_usage;
  const memory = stats.memory_stats?.usage;
  if (typeof cpu !== 'number' || typeof memory !== 'number') return undefined;
  const inactive = stats.memory_stats?.stats?.inactive_file ?? stats.memory_stats?.stats?.total_inactive_file ?? 0;
  return { cpuUsageNanoseconds: cpu, memoryWorkingSetBytes: Math.max(0, memory - inactive), at: stats.read ? new Date(stats.read) : new Date() };
}
