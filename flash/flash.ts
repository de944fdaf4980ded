import { type CheckedImage, checkImage } from './image-check';
import { lockDevice } from './device-lock';
import { describeTarget, type Target } from './target';
import { erasePlan } from './erase-plan';
import { guardTarget } from './device-guards';
import { refuse } from './errors';
import { findEfiPartition, installFirmware, listFirmware } from './firmware';
import { findBootPartition, injectIgnition, readIgnitionConfig } from './ignition-inject';
import { readMounts, readSwaps } from './mounts';
import { createByteProgress, type ByteProgressOutput } from './byte-progress';
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
  out: ByteProgressOutput;
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

interface Prepared {
  config: Buffer;
  checked: CheckedImage;
  target: Target;
}

const sayTo =
  (env: FlashEnvironment) =>
  (line: string): void =>
    void env.out.write(`${line}\n`);

/**
 * `lotse flash`: check everything that can be checked, refuse what must not be written, then write,
 * sync, read back, and place the Ignition config (and firmware) without mounting anything.
 */
export async function flash(options: FlashOptions, env: FlashEnvironment): Promise<FlashReport> {
  const prepared = await preflight(options, env);
  if (!options.yes) {
    sayTo(env)(await erasePlan(prepared.target, prepared.checked, options));
    throw refuse(`nothing was written to ${options.device}: --yes was not given`);
  }
  const release = prepared.target.kind === 'block' ? await lockDevice(prepared.target.path) : async (): Promise<void> => undefined;
  try {
    const report = await writeAndPrepare(options, prepared, env);
    sayTo(env)(`${options.device} is ready: put the card in the Pi and power it on`);
    return report;
  } finally {
    await release();
  }
}

/** Everything checked before the card is touched: inputs, image, and the guards on the target. */
async function preflight(options: FlashOptions, env: FlashEnvironment): Promise<Prepared> {
  const config = await readIgnitionConfig(options.ignition);
  if (options.firmware) await listFirmware(options.firmware);
  const checked = await checkImage(options.image);
  const { checksum } = checked;
  sayTo(env)(`${options.image}: ${checksum.verified ? `sha256 matches ${checksum.checksumFile}` : 'no checksum file beside it, not verified'}`);
  if (options.firmware) findEfiPartition(checked.gpt, options.image);

  const target = await describeTarget(options.device);
  const mounts = await readMounts(env.mountsPath);
  const inUse = [...mounts, ...(await readSwaps(env.swapsPath))];
  await guardTarget({ target, imagePath: options.image, imageSize: checked.image.size, mounts: inUse, systemDisks: await systemDisks(mounts) });
  return { config, checked, target };
}

async function writeAndPrepare(options: FlashOptions, { config, checked, target }: Prepared, env: FlashEnvironment): Promise<FlashReport> {
  const say = sayTo(env);
  const progress = createByteProgress(env.out, env.progressIntervalMs);
  const written = await writeImage(checked.image, target, progress);
  await verifyWritten(target, written.bytes, written.sha256, progress);
  say(`wrote and verified ${formatBytes(written.bytes)} on ${options.device} (sha256 ${written.sha256})`);

  const boot = await findBootPartition(options.device, checked.gpt);
  await injectIgnition(options.device, boot, config);
  say(`placed ${options.ignition} at /ignition/config.ign in partition ${boot.number} (boot)`);
  const efi = options.firmware ? findEfiPartition(checked.gpt, options.image) : undefined;
  if (options.firmware && efi) {
    await installFirmware(options.device, efi, options.firmware);
    say(`unpacked ${options.firmware} into partition ${efi.number} (EFI system)`);
  }
  return { bytes: written.bytes, sha256: written.sha256, bootPartition: boot.number, efiPartition: efi?.number };
}
