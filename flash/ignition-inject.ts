import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debugfsScript, ext4At, ext4Read, ext4Stat } from './debugfs';
import { fail, refuse } from './errors';
import { ext4LabelAt } from './ext4-label';
import type { GptPartition, GptTable } from './gpt';

/** Where Fedora CoreOS (and Flatcar's first boot) look for a config baked into the disk, as coreos-installer writes it. */
export const IGNITION_DIR = '/ignition';
export const IGNITION_FILE = '/ignition/config.ign';
const BOOT_LABEL = 'boot';

/** Refuses a file that is not an Ignition config, before the card is erased for nothing. */
export async function readIgnitionConfig(path: string): Promise<Buffer> {
  const bytes = await readFile(path).catch((e: Error) => {
    throw refuse(`cannot read the Ignition config ${path}: ${e.message}`);
  });
  let version: unknown;
  try {
    version = (JSON.parse(bytes.toString('utf8')) as { ignition?: { version?: unknown } }).ignition?.version;
  } catch (e) {
    throw refuse(`the Ignition config ${path} is not JSON (${(e as Error).message}); pass the .ign file the raspberry-pi stack wrote, not its YAML source`);
  }
  if (typeof version !== 'string') throw refuse(`the Ignition config ${path} has no "ignition.version"; it is not an Ignition config`);
  return bytes;
}

/** The partition whose ext4 filesystem is labelled `boot`, found by reading superblocks on the target. */
export async function findBootPartition(device: string, gpt: GptTable): Promise<GptPartition> {
  for (const p of gpt.partitions) {
    if ((await ext4LabelAt(device, p.offset)) === BOOT_LABEL) return p;
  }
  throw fail(`no partition on ${device} holds an ext4 filesystem labelled "${BOOT_LABEL}"; is the image a Fedora CoreOS metal image?`);
}

/** Writes the config to /ignition/config.ign in the boot filesystem (directory 0700, file 0600, owned by root) and checks it. */
export async function injectIgnition(device: string, boot: GptPartition, config: Buffer): Promise<void> {
  const fs = ext4At(device, boot.offset);
  const dir = await mkdtemp(join(tmpdir(), 'lotse-ign-'));
  try {
    // debugfs takes the source by name; a private copy cannot change underneath, and quoting keeps a TMPDIR with spaces working.
    const local = join(dir, 'config.ign');
    await writeFile(local, config, { mode: 0o600 });
    await debugfsScript(
      fs,
      [
        `mkdir ${IGNITION_DIR}`,
        `rm ${IGNITION_FILE}`,
        `cd ${IGNITION_DIR}`,
        `write "${local}" config.ign`,
        ...ownedByRoot(IGNITION_DIR, 0o40700),
        ...ownedByRoot(IGNITION_FILE, 0o100600),
      ],
      true,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await checkInjected(fs, device, config);
}

function ownedByRoot(path: string, mode: number): string[] {
  return [`set_inode_field ${path} mode 0${mode.toString(8)}`, `set_inode_field ${path} uid 0`, `set_inode_field ${path} gid 0`];
}

async function checkInjected(fs: string, device: string, config: Buffer): Promise<void> {
  const dir = await ext4Stat(fs, IGNITION_DIR);
  const file = await ext4Stat(fs, IGNITION_FILE);
  const bytes = await ext4Read(fs, IGNITION_FILE);
  if (dir?.type !== 'directory' || (dir.mode & 0o7777) !== 0o700 || file?.type !== 'regular' || (file.mode & 0o7777) !== 0o600 || !bytes.equals(config)) {
    throw fail(`writing ${IGNITION_FILE} into the boot partition of ${device} did not take (read back: directory ${describe(dir)}, file ${describe(file)}); run lotse flash again`);
  }
}

function describe(s: { type: string; mode: number } | undefined): string {
  return s ? `${s.type} ${(s.mode & 0o7777).toString(8)}` : 'missing';
}
