import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlashError } from '../../flash/errors';
import { flash, type FlashOptions } from '../../flash/flash';
import { buildDiskFixture, type DiskFixture, sha256sumLine, toolOutput } from './disk-fixture';

class Captured {
  text = '';
  readonly isTTY = false;
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** As the kernel writes paths into /proc/mounts and /proc/swaps. */
const escaped = (path: string): string => path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function refusal(options: FlashOptions, mountsPath?: string, swapsPath?: string): Promise<{ error: FlashError; out: string }> {
  const out = new Captured();
  const error = await flash(options, { out, mountsPath, swapsPath }).then(
    () => {
      throw new Error('flash succeeded but a refusal was expected');
    },
    (e: unknown) => e,
  );
  if (!(error instanceof FlashError)) throw error;
  return { error, out: out.text };
}

describe('lotse flash onto an image file', () => {
  let fx: DiskFixture;
  beforeAll(() => {
    fx = buildDiskFixture();
  });
  afterAll(() => fx?.cleanup());

  test('writes the image, the Ignition config (0700/0600) and the firmware, byte for byte', async () => {
    writeFileSync(`${fx.xz}.sha256`, sha256sumLine(sha256(readFileSync(fx.xz)), 'fcos-test.raw.xz'));
    const device = join(fx.dir, 'card.img');
    const out = new Captured();
    const report = await flash({ ignition: fx.ignition, image: fx.xz, device, firmware: fx.firmwareZip, yes: true }, { out, progressIntervalMs: 0 });

    expect(out.text).toContain('sha256 matches');
    expect(out.text).toMatch(/writing: 12\.0 MiB of 12\.0 MiB \(100%\), [\d.]+ MB\/s/);
    expect(out.text).toMatch(/verifying: 12\.0 MiB of 12\.0 MiB \(100%\)/);
    expect(report).toMatchObject({ bytes: fx.size, bootPartition: 2, efiPartition: 1 });

    // Outside the two partitions lotse edits, the card equals the image.
    const image = readFileSync(fx.raw);
    const card = readFileSync(device);
    expect(card.length).toBe(image.length);
    expect(sha256(card.subarray(0, fx.efi.offset))).toBe(sha256(image.subarray(0, fx.efi.offset)));
    expect(sha256(card.subarray(fx.root.offset))).toBe(sha256(image.subarray(fx.root.offset)));

    const fs = `${device}?offset=${fx.boot.offset}`;
    const cat = toolOutput('debugfs', ['-R', 'cat /ignition/config.ign', fs]);
    expect(cat.equals(readFileSync(fx.ignition))).toBe(true);
    const dirStat = toolOutput('debugfs', ['-R', 'stat /ignition', fs]).toString();
    const fileStat = toolOutput('debugfs', ['-R', 'stat /ignition/config.ign', fs]).toString();
    expect(dirStat).toMatch(/Type: directory\s+Mode:\s+0700/);
    expect(fileStat).toMatch(/Type: regular\s+Mode:\s+0600/);
    expect(fileStat).toMatch(/User:\s+0\s+Group:\s+0/);
    // e2fsck agrees the filesystem is still consistent after debugfs edited it.
    toolOutput('e2fsck', ['-fn', fs]);

    for (const name of ['RPI_EFI.fd', 'config.txt', 'start4.elf', 'overlays/upstream-pi4.dtbo']) {
      const onCard = toolOutput('mtype', ['-i', `${device}@@${fx.efi.offset}`, `::/${name}`]);
      expect(onCard.equals(readFileSync(join(fx.firmwareDir, name)))).toBe(true);
    }
  });

  test('an uncompressed image works the same, over an older, larger image file', async () => {
    const device = join(fx.dir, 'raw-card.img');
    writeFileSync(device, Buffer.alloc(20 * 1024 * 1024, 0xee));
    const report = await flash({ ignition: fx.ignition, image: fx.raw, device, yes: true }, { out: new Captured() });
    expect(report.bytes).toBe(fx.size);
    const card = readFileSync(device);
    expect(card.length).toBe(fx.size);
    expect(sha256(card.subarray(fx.root.offset))).toBe(sha256(readFileSync(fx.raw).subarray(fx.root.offset)));
    const cat = toolOutput('debugfs', ['-R', 'cat /ignition/config.ign', `${device}?offset=${fx.boot.offset}`]);
    expect(cat.equals(readFileSync(fx.ignition))).toBe(true);
  });

  test('without --yes it shows what would be erased, exits with a refusal and writes nothing', async () => {
    const device = join(fx.dir, 'not-yet.img');
    const { error, out } = await refusal({ ignition: fx.ignition, image: fx.xz, device, firmware: fx.firmwareZip, yes: false });
    expect(error.kind).toBe('refused');
    expect(error.message).toContain('--yes was not given');
    expect(out).toContain(`lotse flash would ERASE everything on ${device}`);
    expect(out).toContain('GPT with 3 partitions');
    expect(out).toContain('/ignition/config.ign');
    expect(existsSync(device)).toBe(false);
  });

  test('without --yes on an existing card it lists what is on it now', async () => {
    const device = join(fx.dir, 'old-card.img');
    writeFileSync(device, readFileSync(fx.raw));
    const { out } = await refusal({ ignition: fx.ignition, image: fx.xz, device, yes: false });
    expect(out).toContain('now on it: 1 EFI-SYSTEM 3.0 MiB, 2 boot 4.0 MiB, 3 root');
  });

  test('refuses an image whose checksum file disagrees', async () => {
    const image = join(fx.dir, 'bad-sum.raw');
    writeFileSync(image, readFileSync(fx.raw));
    writeFileSync(join(fx.dir, 'SHA256SUMS'), sha256sumLine('0'.repeat(64), 'bad-sum.raw'));
    const device = join(fx.dir, 'bad-sum-target.img');
    const { error } = await refusal({ ignition: fx.ignition, image, device, yes: true });
    expect(error.kind).toBe('refused');
    expect(error.message).toMatch(/does not match its checksum file .*SHA256SUMS/);
    expect(existsSync(device)).toBe(false);
  });

  test('refuses an image without a GPT', async () => {
    const image = join(fx.dir, 'mbr-only.raw');
    const bytes = readFileSync(fx.raw);
    bytes.fill(0, 512, 1024); // wipe the primary GPT header, keep the protective MBR
    writeFileSync(image, bytes);
    const { error } = await refusal({ ignition: fx.ignition, image, device: join(fx.dir, 'x.img'), yes: true });
    expect(error.message).toMatch(/not a GPT disk image/);
  });

  test('refuses an xz download cut short', async () => {
    const image = join(fx.dir, 'cut.raw.xz');
    const xz = readFileSync(fx.xz);
    writeFileSync(image, xz.subarray(0, xz.length - 100));
    const { error } = await refusal({ ignition: fx.ignition, image, device: join(fx.dir, 'cut.img'), yes: true });
    expect(error.kind).toBe('refused');
    expect(error.message).toMatch(/cannot read the index of .*cut\.raw\.xz; the download is truncated or damaged/);
  });

  test('refuses an image cut short', async () => {
    const image = join(fx.dir, 'short.raw');
    writeFileSync(image, readFileSync(fx.raw).subarray(0, 8 * 1024 * 1024));
    const { error } = await refusal({ ignition: fx.ignition, image, device: join(fx.dir, 'y.img'), yes: true });
    expect(error.message).toMatch(/truncated/);
  });

  test('refuses a target file that a (simulated) mount table shows mounted', async () => {
    const device = join(fx.dir, 'mounted.img');
    writeFileSync(device, Buffer.alloc(4096));
    const mounts = join(fx.dir, 'mounts');
    writeFileSync(mounts, `/dev/vda / ext4 rw 0 0\n${escaped(device)} /mnt/my\\040card vfat rw 0 0\n`);
    const { error } = await refusal({ ignition: fx.ignition, image: fx.xz, device, yes: true }, mounts);
    expect(error.message).toContain(`is mounted (${device} on /mnt/my card)`);
    expect(readFileSync(device).equals(Buffer.alloc(4096))).toBe(true);
  });

  test('refuses to write the image over itself, and images it cannot stream', async () => {
    const image = join(fx.dir, 'self.raw');
    writeFileSync(image, readFileSync(fx.raw));
    expect((await refusal({ ignition: fx.ignition, image, device: image, yes: true })).error.message).toContain('is the image itself');
    expect(readFileSync(image).equals(readFileSync(fx.raw))).toBe(true);
    const gz = join(fx.dir, 'img.raw.gz');
    writeFileSync(gz, 'x');
    expect((await refusal({ ignition: fx.ignition, image: gz, device: join(fx.dir, 'g.img'), yes: true })).error.message).toMatch(/compressed with gz/);
  });

  test('refuses a target in use as swap', async () => {
    const device = join(fx.dir, 'swapfile');
    writeFileSync(device, Buffer.alloc(4096));
    const swaps = join(fx.dir, 'swaps');
    writeFileSync(swaps, `Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n${escaped(device)}                               file\t\t4\t\t0\t\t-2\n`);
    const { error } = await refusal({ ignition: fx.ignition, image: fx.xz, device, yes: true }, undefined, swaps);
    expect(error.message).toContain(`is in use as swap (${device}); run "swapoff ${device}" first`);
  });

  test('refuses an Ignition file that is not JSON and a firmware file that is not a zip', async () => {
    const yaml = join(fx.dir, 'pi.bu');
    writeFileSync(yaml, 'variant: fcos\nversion: 1.5.0\n');
    const device = join(fx.dir, 'z.img');
    expect((await refusal({ ignition: yaml, image: fx.xz, device, yes: true })).error.message).toMatch(/is not JSON/);
    expect((await refusal({ ignition: fx.ignition, image: fx.xz, device, firmware: fx.ignition, yes: true })).error.message).toMatch(
      /not a readable zip archive/,
    );
  });
});
