import { execFileSync } from 'node:child_process';
import type Docker from 'dockerode';
import { LABEL, type MemoryVolumeSpec } from './container-runtime';
import { engineMessage } from './engine-message';

/**
 * Memory-backed emptyDirs as engine volumes: the local driver mounting a tmpfs (type=tmpfs,
 * device=tmpfs), sized by sizeLimit, labelled like the agent's containers so a restarted agent
 * finds those of pods that are gone. The engine mounts the tmpfs while a container uses the volume;
 * the pod's sandbox holds it (SandboxSpec.volumes), so it lives as long as the pod.
 */
export class MemoryVolumes {
  /** Volumes known to exist, so a sync does not ask the engine each time. */
  private readonly known = new Set<string>();

  constructor(private readonly docker: Docker, private readonly nodeName: string) {}

  async ensure(spec: MemoryVolumeSpec): Promise<string> {
    const name = volumeName(spec);
    if (this.known.has(name)) return name;
    if (!(await this.exists(name))) {
      try {
        await this.docker.createVolume({
          Name: name,
          Driver: 'local',
          DriverOpts: { type: 'tmpfs', device: 'tmpfs', ...(spec.sizeBytes ? { o: sizeOption(spec.sizeBytes) } : {}) },
          Labels: {
            [LABEL.podUid]: spec.pod.uid,
            [LABEL.podName]: spec.pod.name,
            [LABEL.namespace]: spec.pod.namespace,
            [LABEL.node]: this.nodeName,
            [LABEL.volume]: spec.name,
          },
        });
      } catch (err) {
        throw new Error(`creating the tmpfs volume ${name} failed: ${engineMessage(err)}`);
      }
    }
    this.known.add(name);
    return name;
  }

  async pods(): Promise<string[]> {
    const volumes = await this.list();
    return [...new Set(volumes.map((v) => v.Labels?.[LABEL.podUid]).filter((uid): uid is string => !!uid))];
  }

  async removePod(podUid: string): Promise<void> {
    for (const v of (await this.list()).filter((x) => x.Labels?.[LABEL.podUid] === podUid)) await this.remove(v.Name, `of pod ${podUid}`);
  }

  /** Removes every volume of this node (lotse down, after the containers that held them); returns how many. */
  async removeAll(): Promise<number> {
    const volumes = await this.list();
    for (const v of volumes) await this.remove(v.Name, `of node ${this.nodeName}`);
    return volumes.length;
  }

  private async remove(name: string, whose: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove({ force: true });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw new Error(`removing volume ${name} ${whose} failed: ${engineMessage(err)}`);
    }
    this.known.delete(name);
  }

  /**
   * This node's volumes. One label filter only: podman ORs several label filters on volumes (it
   * ANDs them on containers), so the pod is picked here, not by the engine.
   */
  private async list(): Promise<Docker.VolumeInspectInfo[]> {
    const label = `${LABEL.node}=${this.nodeName}`;
    try {
      const volumes = (await this.docker.listVolumes({ filters: { label: [label] } })).Volumes ?? [];
      return volumes.filter((v) => v.Labels?.[LABEL.node] === this.nodeName);
    } catch (err) {
      throw new Error(`listing volumes labelled ${label} failed: ${engineMessage(err)}`);
    }
  }

  private async exists(name: string): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect();
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw new Error(`inspecting volume ${name} failed: ${engineMessage(err)}`);
    }
  }
}

/** lotse_UID_NAME: unique per pod and volume, and found again by a restarted agent. */
function volumeName(spec: MemoryVolumeSpec): string {
  return `lotse_${spec.pod.uid}_${spec.name}`;
}

/**
 * The size as tmpfs's nr_blocks (pages): podman 4 takes `size=` in a volume's options for its
 * own XFS-quota option and refuses it on other filesystems; the kernel's nr_blocks means the same.
 */
function sizeOption(bytes: number): string {
  return `nr_blocks=${Math.max(1, Math.ceil(bytes / pageSize()))}`;
}

let cachedPageSize: number | undefined;

function pageSize(): number {
  if (cachedPageSize === undefined) {
    try {
      cachedPageSize = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
    } catch {
      cachedPageSize = 4096; // what every common Linux build uses
    }
  }
  return cachedPageSize;
}
