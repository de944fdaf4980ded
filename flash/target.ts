import { realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  blockDevNumberOfPath,
  describeHardware,
  holdersOf,
  isPartition,
  loopDevicesBacking,
  partitionsOf,
  type SysBlock,
  sizeOf,
  sysBlockOf,
} from './block-device';
import { refuse } from './errors';

interface TargetBase {
  /** As given on the command line. */
  path: string;
  /** Device numbers (`major:minor`) whose being mounted means the target is in use. */
  inUseWhenMounted: Set<string>;
  /** Paths that, as a mount source, also mean the target is in use. */
  sourcePaths: Set<string>;
}

export interface BlockTarget extends TargetBase {
  kind: 'block';
  device: SysBlock;
  partition: boolean;
  size: number;
  hardware: string;
}

export interface FileTarget extends TargetBase {
  kind: 'file';
  /** Undefined when the file does not exist yet. */
  size: number | undefined;
}

export type Target = BlockTarget | FileTarget;

/** Finds out what `path` is, so the guards can judge it and the plan can describe it. */
export async function describeTarget(path: string): Promise<Target> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return describeNewFile(path);
  if (st.isFile()) return describeFile(path, st.size);
  if (st.isBlockDevice()) return describeBlock(path);
  throw refuse(`the target ${path} is neither a block device nor a regular file; give the SD card's device (e.g. /dev/sdX or /dev/mmcblk0) or an image file`);
}

async function describeNewFile(path: string): Promise<FileTarget> {
  const parent = await stat(dirname(resolve(path))).catch(() => undefined);
  if (!parent?.isDirectory()) throw refuse(`the target ${path} does not exist and its folder does not either`);
  return { kind: 'file', path, size: undefined, inUseWhenMounted: new Set(), sourcePaths: new Set([resolve(path)]) };
}

async function describeFile(path: string, size: number): Promise<FileTarget> {
  const real = await realpath(path);
  const related = await withStackedDevices(await loopDevicesBacking(real));
  return { kind: 'file', path, size, inUseWhenMounted: related, sourcePaths: new Set([resolve(path), real]) };
}

async function describeBlock(path: string): Promise<BlockTarget> {
  const devNumber = await blockDevNumberOfPath(path);
  const device = devNumber ? await sysBlockOf(devNumber) : undefined;
  if (!device) throw refuse(`the block device ${path} has no entry under /sys/dev/block; is sysfs mounted?`);
  return {
    kind: 'block',
    path,
    device,
    partition: await isPartition(device),
    size: await sizeOf(device),
    hardware: await describeHardware(device),
    inUseWhenMounted: await withStackedDevices([device]),
    sourcePaths: new Set([resolve(path), await realpath(path)]),
  };
}

/** The devices themselves, their partitions, and whatever is stacked on any of them. */
async function withStackedDevices(devices: SysBlock[]): Promise<Set<string>> {
  const all: SysBlock[] = [];
  for (const dev of devices) {
    const parts = await partitionsOf(dev);
    for (const d of [dev, ...parts]) all.push(d, ...(await holdersOf(d)));
  }
  return new Set(all.map((d) => d.devNumber));
}
