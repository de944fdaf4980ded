import { stat } from 'node:fs/promises';
import { blockDevNumberOfPath, devNumberString, type SysBlock, slavesOf, sysBlockOf, wholeDiskOf } from './block-device';
import type { MountEntry } from './mounts';

/** Mount points whose disk is the running system: erasing any of them wrecks the machine doing the flashing. */
const SYSTEM_MOUNTPOINTS = ['/', '/boot', '/boot/efi', '/usr', '/var'];

/**
 * The whole disks (by `major:minor`) that hold the running system. Sources come from the mount table and
 * from stat("/") (which still works when the table says `/dev/root`); device-mapper and md layers are
 * followed down to the disks they are built on.
 */
export async function systemDisks(mounts: MountEntry[]): Promise<Map<string, string>> {
  const numbers = new Set<string>();
  for (const m of mounts.filter((m) => SYSTEM_MOUNTPOINTS.includes(m.mountpoint))) {
    const n = await blockDevNumberOfPath(m.source);
    if (n) numbers.add(n);
  }
  const root = await stat('/', { bigint: true });
  numbers.add(devNumberString(root.dev));
  const disks = new Map<string, string>();
  for (const n of numbers) {
    const dev = await sysBlockOf(n);
    if (dev) for (const disk of await disksUnder(dev)) disks.set(disk.devNumber, disk.name);
  }
  return disks;
}

async function disksUnder(dev: SysBlock): Promise<SysBlock[]> {
  const lower = await slavesOf(dev);
  const leaves = lower.length > 0 ? lower : [dev];
  return Promise.all(leaves.map(wholeDiskOf));
}
