import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail, messageOf, refuse } from './errors';
import { EFI_SYSTEM_TYPE, type GptPartition, type GptTable } from './gpt';
import { runTool } from './tools';

/** mtools checks FAT geometry against the BIOS's idea of the drive; images and SD cards have none. */
const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: '1' };

/** The files in the firmware zip; refuses a file that unzip cannot read, before anything is erased. */
export async function listFirmware(zip: string): Promise<string[]> {
  const names = await runTool('unzip', ['-Z1', zip]).then(
    (r) => r.stdout.toString('utf8').split('\n').filter((n) => n !== '' && !n.endsWith('/')),
    (e: unknown) => {
      throw refuse(`the firmware ${zip} is not a readable zip archive (${messageOf(e)}); pass the RPi4_UEFI_Firmware_vX.zip release as downloaded`);
    },
  );
  if (names.length === 0) throw refuse(`the firmware archive ${zip} is empty`);
  return names;
}

/** The EFI system partition, by its GPT type (the name varies between images). */
export function findEfiPartition(gpt: GptTable, image: string): GptPartition {
  const efi = gpt.partitions.find((p) => p.typeGuid === EFI_SYSTEM_TYPE);
  if (!efi) throw refuse(`the image ${image} has no EFI system partition for the firmware`);
  return efi;
}

/**
 * Unpacks the Raspberry Pi 4 UEFI firmware into the root of the EFI system partition with mtools,
 * addressing the FAT filesystem by byte offset (`DEVICE@@OFFSET`) so no mount is needed.
 * unzip drops `..` and absolute paths, so the archive cannot write outside its temporary folder.
 */
export async function installFirmware(device: string, efi: GptPartition, zip: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lotse-firmware-'));
  try {
    await runTool('unzip', ['-q', '-o', zip, '-d', dir]);
    const top = (await readdir(dir)).map((n) => join(dir, n));
    await runTool('mcopy', ['-s', '-D', 'o', '-i', `${device}@@${efi.offset}`, ...top, '::/'], MTOOLS_ENV);
  } catch (e) {
    throw fail(`unpacking the firmware ${zip} into the EFI partition of ${device} failed: ${messageOf(e)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
