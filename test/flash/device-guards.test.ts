import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { devNumberString } from '../../flash/block-device';
import { guardTarget, mountsUsing } from '../../flash/device-guards';
import { lockDevice } from '../../flash/device-lock';
import { FlashError } from '../../flash/errors';
import { flash, type FlashOptions } from '../../flash/flash';
import { readMounts } from '../../flash/mounts';
import { systemDisks } from '../../flash/system-disk';
import { type BlockTarget, describeTarget } from '../../flash/target';
import { buildDiskFixture, type DiskFixture, MiB, toolOutput } from './disk-fixture';

const quiet = { out: { write: (): boolean => true, isTTY: false } };

/** /dev/NAME of the whole disk holding "/", found independently of the code under test (lsblk-style, via sysfs). */
function rootDiskPath(): string | undefined {
  const number = devNumberString(statSync('/', { bigint: true }).dev);
  if (!existsSync(`/sys/dev/block/${number}`)) return undefined;
  let dir = realpathSync(`/sys/dev/block/${number}`);
  if (existsSync(join(dir, 'partition'))) dir = join(dir, '..');
  const path = `/dev/${basename(realpathSync(dir))}`;
  return existsSync(path) && statSync(path).isBlockDevice() ? path : undefined;
}

function loopDevicesWork(): boolean {
  try {
    execFileSync('losetup', ['--version'], { stdio: 'ignore' });
    return existsSync('/dev/loop-control');
  } catch {
    return false;
  }
}

async function refusal(options: FlashOptions): Promise<FlashError> {
  const error = await flash(options, quiet).then(
    () => new Error('flash succeeded but a refusal was expected'),
    (e: unknown) => e,
  );
  if (!(error instanceof FlashError)) throw error;
  return error;
}

const rootDisk = rootDiskPath();
const withRootDisk = rootDisk ? test : test.skip;
const withLoop = loopDevicesWork() ? describe : describe.skip;

describe('device guards', () => {
  let fx: DiskFixture;
  beforeAll(() => {
    fx = buildDiskFixture(12);
  });
  afterAll(() => fx?.cleanup());

  // Safe by construction: without --yes nothing is opened for writing, whatever the guards decide.
  withRootDisk('refuses the disk the running system is on, read from the real /proc/mounts and /sys', async () => {
    const disk = rootDisk as string;
    const mounts = await readMounts();
    const target = await describeTarget(disk);
    expect(target.kind).toBe('block');
    expect((await systemDisks(mounts)).has((target as BlockTarget).device.devNumber)).toBe(true);
    expect((await mountsUsing(target, mounts)).map((m) => m.mountpoint)).toContain('/');
    const error = await refusal({ ignition: fx.ignition, image: fx.xz, device: disk, yes: false });
    expect(error.kind).toBe('refused');
    expect(error.message).toContain('is the disk the running system is on');
  });

  test('refuses a partition, the system disk and a small device, judged from what sysfs reported', async () => {
    const card: BlockTarget = {
      kind: 'block',
      path: '/dev/sdz',
      device: { name: 'sdz', dir: '/sys/block/sdz', devNumber: '8:208' },
      partition: false,
      size: 8 * MiB,
      hardware: 'Test Card, removable',
      inUseWhenMounted: new Set(['8:208', '8:209']),
      sourcePaths: new Set(['/dev/sdz']),
    };
    const input = { target: card, imagePath: '/nonexistent/image.raw', imageSize: 12 * MiB, mounts: [], systemDisks: new Map<string, string>() };
    await expect(guardTarget(input)).rejects.toThrow('/dev/sdz holds 8.0 MiB but the image needs 12.0 MiB');
    await expect(guardTarget({ ...input, target: { ...card, partition: true } })).rejects.toThrow(/is a partition/);
    await expect(guardTarget({ ...input, systemDisks: new Map([['8:208', 'sdz']]) })).rejects.toThrow(/running system is on/);
    await expect(guardTarget({ ...input, imageSize: 4 * MiB })).resolves.toBeUndefined();
  });

  withLoop('on loop devices', () => {
    const attached: string[] = [];
    const mounted: string[] = [];
    const attach = (file: string): string => {
      const dev = execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim();
      attached.push(dev);
      return dev;
    };
    afterAll(() => {
      for (const m of mounted) execFileSync('umount', [m]);
      for (const d of attached) execFileSync('losetup', ['-d', d]);
    });

    test('refuses a mounted device', async () => {
      const fsFile = join(fx.dir, 'mounted.ext4');
      writeFileSync(fsFile, Buffer.alloc(16 * MiB));
      execFileSync('mkfs.ext4', ['-q', fsFile]);
      const dev = attach(fsFile);
      const mnt = join(fx.dir, 'mnt');
      mkdirSync(mnt);
      execFileSync('mount', [dev, mnt]);
      mounted.push(mnt);
      const error = await refusal({ ignition: fx.ignition, image: fx.xz, device: dev, yes: true });
      expect(error.message).toContain(`${dev} is mounted (${dev} on ${mnt})`);
      // The loop's backing file counts as in use too.
      expect((await refusal({ ignition: fx.ignition, image: fx.xz, device: fsFile, yes: true })).message).toMatch(/is mounted/);
    });

    test('refuses a device smaller than the image', async () => {
      const small = join(fx.dir, 'small.card');
      writeFileSync(small, Buffer.alloc(4 * MiB));
      const dev = attach(small);
      const error = await refusal({ ignition: fx.ignition, image: fx.xz, device: dev, yes: true });
      expect(error.message).toContain(`${dev} holds 4.0 MiB but the image needs 12.0 MiB`);
      expect(readFileSync(small).equals(Buffer.alloc(4 * MiB))).toBe(true);
    });

    test('holds a BSD lock on the disk while it works, so udev and automounters keep off', async () => {
      const backing = join(fx.dir, 'locked.card');
      writeFileSync(backing, Buffer.alloc(MiB));
      const dev = attach(backing);
      const release = await lockDevice(dev);
      const tryLock = (): number => spawnSync('flock', ['--nonblock', '--exclusive', dev, 'true']).status ?? -1;
      expect(tryLock()).toBe(1);
      await release();
      expect(tryLock()).toBe(0);
    });

    test('flashes a block device, reading back from the device after dropping its cache', async () => {
      const backing = join(fx.dir, 'loop.card');
      writeFileSync(backing, Buffer.alloc(16 * MiB));
      const dev = attach(backing);
      const report = await flash({ ignition: fx.ignition, image: fx.xz, device: dev, firmware: fx.firmwareZip, yes: true }, quiet);
      expect(report.bytes).toBe(12 * MiB);
      const onCard = toolOutput('debugfs', ['-R', 'cat /ignition/config.ign', `${dev}?offset=${fx.boot.offset}`]);
      expect(onCard.equals(readFileSync(fx.ignition))).toBe(true);
      const fd = toolOutput('mtype', ['-i', `${dev}@@${fx.efi.offset}`, '::/RPI_EFI.fd']);
      expect(fd.equals(readFileSync(join(fx.firmwareDir, 'RPI_EFI.fd')))).toBe(true);
    });
  });
});
