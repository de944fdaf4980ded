import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { blockDevNumberOfPath } from './block-device';
import { refuse } from './errors';
import type { MountEntry } from './mounts';
import { formatBytes } from './units';
import type { Target } from './target';

export interface GuardInput {
  target: Target;
  /** The image file, which must not be the target itself. */
  imagePath: string;
  imageSize: number;
  mounts: MountEntry[];
  /** Whole disks of the running system, `major:minor` to name. */
  systemDisks: Map<string, string>;
}

/**
 * Refuses targets that must never be written: a partition instead of a disk, the system's own disk,
 * anything mounted, and a device too small for the image. Throws a `refused` FlashError naming the fix.
 */
export async function guardTarget(input: GuardInput): Promise<void> {
  const { target } = input;
  if (await sameFile(target.path, input.imagePath)) {
    throw refuse(`${target.path} is the image itself; give the SD card's device or another file as --device`);
  }
  if (target.kind === 'block' && target.partition) {
    throw refuse(`${target.path} is a partition (${target.device.name}); give the whole card instead, e.g. the disk it belongs to`);
  }
  if (target.kind === 'block' && input.systemDisks.has(target.device.devNumber)) {
    throw refuse(`${target.path} (${target.device.name}) is the disk the running system is on; refusing to erase it. Check the device name with "lsblk".`);
  }
  const used = await mountsUsing(target, input.mounts);
  const swap = used.find((m) => m.fstype === 'swap');
  if (swap) throw refuse(`${target.path} is in use as swap (${swap.source}); run "swapoff ${swap.source}" first`);
  if (used.length > 0) {
    const list = used.map((m) => `${m.source} on ${m.mountpoint}`).join(', ');
    throw refuse(`${target.path} is mounted (${list}); unmount it first (e.g. "umount ${used[0].mountpoint}") and run again`);
  }
  if (target.kind === 'block' && target.size < input.imageSize) {
    throw refuse(`${target.path} holds ${formatBytes(target.size)} but the image needs ${formatBytes(input.imageSize)}; use a larger card`);
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
}

/** Mount entries whose source is the target, one of its partitions, or a device stacked on it. */
export async function mountsUsing(target: Target, mounts: MountEntry[]): Promise<MountEntry[]> {
  const used: MountEntry[] = [];
  for (const m of mounts) {
    if (!m.source.startsWith('/')) continue;
    if (target.sourcePaths.has(resolve(m.source))) {
      used.push(m);
      continue;
    }
    const n = await blockDevNumberOfPath(m.source);
    if (n && target.inUseWhenMounted.has(n)) used.push(m);
  }
  return used;
}
