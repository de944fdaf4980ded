import type { Command } from 'commander';
import { FlashError } from '../../flash/errors';
import { flash } from '../../flash/flash';

/** Exit status when a guard refused (nothing written) versus when writing failed part-way. */
export const EXIT_REFUSED = 2;
export const EXIT_FAILED = 1;

interface FlashFlags {
  ignition: string;
  image: string;
  device: string;
  firmware?: string;
  yes?: boolean;
}

export function registerFlash(program: Command): void {
  program
    .command('flash')
    .description('Write an OS image and its Ignition config (and Raspberry Pi UEFI firmware) onto an SD card or image file')
    .requiredOption('--ignition <file>', 'Ignition config for this machine (written to /ignition/config.ign on the boot partition)')
    .requiredOption('--image <file>', 'GPT disk image, raw or .xz (e.g. Fedora CoreOS aarch64 metal .raw.xz)')
    .requiredOption('--device <path>', 'the SD card (/dev/sdX, /dev/mmcblkN) or an image file to write')
    .option('--firmware <zip>', 'Raspberry Pi 4 UEFI firmware zip, unpacked into the EFI system partition')
    .option('--yes', 'really erase the device (without it, lotse only shows what would be erased)', false)
    .action(async (flags: FlashFlags) => {
      try {
        await flash({ ...flags, yes: flags.yes === true }, { out: process.stderr });
      } catch (e) {
        if (!(e instanceof FlashError)) throw e;
        process.stderr.write(`lotse flash: ${e.message}\n`);
        process.exitCode = e.kind === 'refused' ? EXIT_REFUSED : EXIT_FAILED;
      }
    });
}
