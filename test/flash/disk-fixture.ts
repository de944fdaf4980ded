import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MiB = 1024 * 1024;
const SECTOR = 512;

export interface DiskFixture {
  dir: string;
  /** The raw GPT image and its xz-compressed copy. */
  raw: string;
  xz: string;
  size: number;
  efi: { offset: number; size: number };
  boot: { offset: number; size: number };
  /** Random bytes in the third partition, so a wrong or partial write cannot pass verification by luck. */
  root: { offset: number; size: number };
  ignition: string;
  firmwareZip: string;
  firmwareDir: string;
  cleanup(): void;
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Writes `source` into `image` at a byte offset without truncating it. */
function place(image: string, source: string, offset: number): void {
  run('dd', [`if=${source}`, `of=${image}`, 'bs=512', `seek=${offset / SECTOR}`, 'conv=notrunc,fsync', 'status=none']);
}

/**
 * A miniature Fedora CoreOS metal layout built with the real Debian tools: GPT (sgdisk), an EFI system
 * partition (mkfs.vfat, label EFI-SYSTEM), an ext4 partition labelled `boot`, and a root partition
 * filled with random bytes (or only its first `randomMiB`, to keep large images quick to compress).
 */
export function buildDiskFixture(sizeMiB = 12, randomMiB?: number): DiskFixture {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-flash-test-'));
  try {
    return buildIn(dir, sizeMiB, randomMiB);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function buildIn(dir: string, sizeMiB: number, randomMiB: number | undefined): DiskFixture {
  const raw = join(dir, 'fcos-test.raw');
  const size = sizeMiB * MiB;
  run('truncate', ['-s', String(size), raw]);
  run('sgdisk', ['-n1:2048:+3M', '-t1:ef00', '-c1:EFI-SYSTEM', '-n2:0:+4M', '-t2:8300', '-c2:boot', '-n3:0:0', '-t3:8300', '-c3:root', raw]);
  const efi = { offset: 2048 * SECTOR, size: 3 * MiB };
  const boot = { offset: efi.offset + efi.size, size: 4 * MiB };
  const root = { offset: boot.offset + boot.size, size: size - (boot.offset + boot.size) - 34 * SECTOR };
  const vfat = join(dir, 'efi.part');
  run('truncate', ['-s', String(efi.size), vfat]);
  run('mkfs.vfat', ['-n', 'EFI-SYSTEM', vfat]);
  const ext4 = join(dir, 'boot.part');
  run('truncate', ['-s', String(boot.size), ext4]);
  run('mkfs.ext4', ['-q', '-L', 'boot', ext4]);
  const rootData = join(dir, 'root.part');
  const randomSize = randomMiB === undefined ? root.size - (root.size % SECTOR) : randomMiB * MiB;
  writeFileSync(rootData, randomBytes(randomSize));
  place(raw, vfat, efi.offset);
  place(raw, ext4, boot.offset);
  place(raw, rootData, root.offset);
  // Several xz blocks, each with its own check, as large published images have: damage shows mid-stream.
  run('xz', ['-k', '-0', '-T1', '--block-size=1MiB', raw]);
  const ignition = join(dir, 'pi-1.ign');
  writeFileSync(ignition, JSON.stringify({ ignition: { version: '3.4.0' }, passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['ssh-ed25519 AAAA test'] }] } }));
  const { zip, folder } = buildFirmwareZip(dir);
  return {
    dir,
    raw,
    xz: `${raw}.xz`,
    size,
    efi,
    boot,
    root,
    ignition,
    firmwareZip: zip,
    firmwareDir: folder,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Shaped like the pftf RPi4 UEFI release: a firmware blob, config.txt, and an overlays folder. */
function buildFirmwareZip(dir: string): { zip: string; folder: string } {
  const folder = join(dir, 'firmware');
  run('mkdir', ['-p', join(folder, 'overlays')]);
  writeFileSync(join(folder, 'RPI_EFI.fd'), randomBytes(200 * 1024));
  writeFileSync(join(folder, 'config.txt'), 'arm_64bit=1\nenable_uart=1\narmstub=RPI_EFI.fd\n');
  writeFileSync(join(folder, 'start4.elf'), randomBytes(64 * 1024));
  writeFileSync(join(folder, 'overlays', 'upstream-pi4.dtbo'), randomBytes(4096));
  const zip = join(dir, 'RPi4_UEFI_Firmware_test.zip');
  run('zip', ['-q', '-r', zip, '.'], folder);
  return { zip, folder };
}

export function sha256sumLine(hash: string, name: string): string {
  return `${hash}  ${name}\n`;
}

export function toolOutput(cmd: string, args: string[]): Buffer {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
}
