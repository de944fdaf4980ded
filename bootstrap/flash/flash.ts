import { checkImage } from './image-check';
import { describeTarget } from './target';
import { erasePlan } from './erase-plan';
import { guardTarget } from './device-guards';
import { refuse } from './errors';
import { findEfiPartition, installFirmware, listFirmware } from './firmware';
import { findBootPartition, injectIgnition, readIgnitionConfig } from './ignition-inject';
import { readMounts, readSwaps } from './mounts';
import { createProgress, type ProgressOutput } from './progress';
import { verifyWritten } from './read-back';
import { systemDisks } from './system-disk';
import { formatBytes } from './units';
import { writeImage } from './writer';

export interface FlashOptions {
  ignition: string;
  image: string;
  device: string;
  firmware?: string;
  yes: boolean;
}

export interface FlashEnvironment {
  /** Where messages and progress go (stderr in the CLI). */
  out: ProgressOutput;
  /** The mount table to consult; tests substitute their own. */
  mountsPath?: string;
  /** The swap table to consult (/proc/swaps); tests substitute their own. */
  swapsPath?: string;
  /** How often a non-terminal gets a progress line. */
  progressIntervalMs?: number;
}

export interface FlashReport {
  bytes: number;
  sha256: string;
  bootPartition: number;
  efiPartition?: number;
}

/**
 * `lotse flash`: check everything that can be checked, refuse what must not be written, then write,
 * sync, read back, and place the Ignition config (and firmware) without mounting anything.
 */
export async function flash(options: FlashOptions, env: FlashEnvironment): Promise<FlashReport> {
  const say = (line: string): void => void env.out.write(`${line}\n`);
  const config = await readIgnitionConfig(options.ignition);
  if (options.firmware) await listFirmware(options.firmware);
  const checked = await checkImage(options.image);
  say(checked.checksum.verified ? `${options.image}: sha256 matches ${checked.checksum.checksumFile}` : `${options.image}: no checksum file beside it, not verified`);
  const efi = options.firmware ? findEfiPartition(checked.gpt, options.image) : undefined;

  const target = await describeTarget(options.device);
  const mounts = await readMounts(env.mountsPath);
  const inUse = [...mounts, ...(await readSwaps(env.swapsPath))];
  await guardTarget({ target, imagePath: options.image, imageSize: checked.image.size, mounts: inUse, systemDisks: await systemDisks(mounts) });
  if (!options.yes) {
    say(await erasePlan(target, checked, options));
    throw refuse(`nothing was written to ${options.device}: --yes was not given`);
  }

  const progress = createProgress(env.out, env.progressIntervalMs);
  const written = await writeImage(checked.image, target, progress);
  await verifyWritten(target, written.bytes, written.sha256, progress);
  say(`wrote and verified ${formatBytes(written.bytes)} on ${options.device} (sha256 ${written.sha256})`);

  const boot = await findBootPartition(options.device, checked.gpt);
  await injectIgnition(options.device, boot, config);
  say(`placed ${options.ignition} at /ignition/config.ign in partition ${boot.number} (boot)`);
  if (options.firmware && efi) {
    await installFirmware(options.device, efi, options.firmware);
    say(`unpacked ${options.firmware} into partition ${efi.number} (EFI system)`);
  }
  say(`${options.device} is ready: put the card in the Pi and power it on`);
  return { bytes: written.bytes, sha256: written.sha256, bootPartition: boot.number, efiPartition: efi?.number };
}
