import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A block device as sysfs shows it: `/sys/devices/.../NAME`, with its `major:minor` number. */
export interface SysBlock {
  name: string;
  dir: string;
  devNumber: string;
}

/** `major:minor` of a device number, decoded the way glibc's major()/minor() do. */
export function devNumberString(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The device number of a block special file, or undefined for anything else (or nothing). */
export async function blockDevNumberOfPath(path: string): Promise<string | undefined> {
  const st = await stat(path, { bigint: true }).catch(() => undefined);
  return st?.isBlockDevice() ? devNumberString(st.rdev) : undefined;
}

export async function sysBlockOf(devNumber: string): Promise<SysBlock | undefined> {
  const dir = await realpath(`/sys/dev/block/${devNumber}`).catch(() => undefined);
  return dir ? { name: basename(dir), dir, devNumber } : undefined;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function isPartition(dev: SysBlock): Promise<boolean> {
  return exists(join(dev.dir, 'partition'));
}

/** The whole disk a partition belongs to (a disk is its own disk). */
export async function wholeDiskOf(dev: SysBlock): Promise<SysBlock> {
  if (!(await isPartition(dev))) return dev;
  const dir = dirname(dev.dir);
  return { name: basename(dir), dir, devNumber: await readSys(dir, 'dev') };
}

export async function readSys(dir: string, file: string): Promise<string> {
  return (await readFile(join(dir, file), 'utf8').catch(() => '')).trim();
}

async function childBlocks(dir: string, filter: (d: string) => Promise<boolean>): Promise<SysBlock[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: SysBlock[] = [];
  for (const name of names) {
    const sub = await realpath(join(dir, name)).catch(() => undefined);
    if (sub && (await filter(sub))) found.push({ name: basename(sub), dir: sub, devNumber: await readSys(sub, 'dev') });
  }
  return found;
}

export async function partitionsOf(disk: SysBlock): Promise<SysBlock[]> {
  return childBlocks(disk.dir, (d) => exists(join(d, 'partition')));
}

/** Devices stacked on top (device-mapper, md, LUKS): mounting one of them uses this device too. */
export async function holdersOf(dev: SysBlock): Promise<SysBlock[]> {
  const direct = await childBlocks(join(dev.dir, 'holders'), async () => true);
  const deeper = await Promise.all(direct.map(holdersOf));
  return [...direct, ...deeper.flat()];
}

/** Devices underneath (the disks a device-mapper or md device is built from). */
export async function slavesOf(dev: SysBlock): Promise<SysBlock[]> {
  const direct = await childBlocks(join(dev.dir, 'slaves'), async () => true);
  const deeper = await Promise.all(direct.map(slavesOf));
  return [...direct, ...deeper.flat()];
}

export async function sizeOf(dev: SysBlock): Promise<number> {
  // sysfs counts 512-byte units whatever the device's logical sector size.
  return Number(await readSys(dev.dir, 'size')) * 512;
}

/** Loop devices whose backing file is `file`: a mounted loop device keeps that file in use. */
export async function loopDevicesBacking(file: string): Promise<SysBlock[]> {
  const names = await readdir('/sys/block').catch(() => [] as string[]);
  const found: SysBlock[] = [];
  for (const name of names.filter((n) => n.startsWith('loop'))) {
    const dir = await realpath(join('/sys/block', name));
    if ((await readSys(dir, 'loop/backing_file')) === file) found.push({ name, dir, devNumber: await readSys(dir, 'dev') });
  }
  return found;
}

/** What a person recognises a card by: vendor and model, and whether it is removable. */
export async function describeHardware(dev: SysBlock): Promise<string> {
  const vendor = await readSys(dev.dir, 'device/vendor');
  // USB readers show vendor and model; a Pi-style built-in MMC slot shows the card's own name instead.
  const model = (await readSys(dev.dir, 'device/model')) || (await readSys(dev.dir, 'device/name'));
  const removable = (await readSys(dev.dir, 'removable')) === '1';
  const backing = await readSys(dev.dir, 'loop/backing_file');
  return [[vendor, model].filter(Boolean).join(' '), removable ? 'removable' : '', backing ? `loop device of ${backing}` : '']
    .filter(Boolean)
    .join(', ');
}
