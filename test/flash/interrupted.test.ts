import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync, stop as stopEsbuild } from 'esbuild';
import { FlashError } from '../../flash/errors';
import { flash } from '../../flash/flash';
import { parseGpt } from '../../flash/gpt';
import { buildDiskFixture, type DiskFixture, MiB, toolOutput } from './disk-fixture';

const repo = resolve(__dirname, '../..');
const quiet = { out: { write: (): boolean => true, isTTY: false } };

function ignitionOn(device: string, fx: DiskFixture): Buffer {
  return toolOutput('debugfs', ['-R', 'cat /ignition/config.ign', `${device}?offset=${fx.boot.offset}`]);
}

// esbuild keeps a service process (and a worker thread) alive; in-band runs would never exit.
afterAll(() => stopEsbuild());

describe('an interrupted flash', () => {
  let fx: DiskFixture;
  beforeAll(() => {
    fx = buildDiskFixture(12);
  });
  afterAll(() => fx?.cleanup());

  test('a stream that breaks mid-way gives a clear error, clears the partition table, and a re-run succeeds', async () => {
    const damaged = join(fx.dir, 'damaged.raw.xz');
    const bytes = readFileSync(fx.xz);
    // Damage a block in the middle; the index at the end stays intact, so the pre-flight checks still pass.
    const middle = Math.floor(bytes.length / 2);
    for (let i = 0; i < 64; i++) bytes[middle + i] ^= 0xff;
    writeFileSync(damaged, bytes);
    const device = join(fx.dir, 'card.img');

    const error = await flash({ ignition: fx.ignition, image: damaged, device, yes: true }, quiet).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlashError);
    const message = (error as FlashError).message;
    expect((error as FlashError).kind).toBe('failed');
    const done = /interrupted after ([\d.]+) MiB of 12\.0 MiB: decompressing .*damaged\.raw\.xz failed/.exec(message);
    expect(done).not.toBeNull();
    expect(Number(done?.[1])).toBeGreaterThan(0);
    expect(Number(done?.[1])).toBeLessThan(12);
    expect(message).toContain('run the same command again');
    expect(() => parseGpt(readFileSync(device).subarray(0, MiB))).toThrow(/not a GPT/);

    await flash({ ignition: fx.ignition, image: fx.xz, device, yes: true }, quiet);
    expect(ignitionOn(device, fx).equals(readFileSync(fx.ignition))).toBe(true);
  });

  test('a target that runs out of space mid-way gives a clear error, and a re-run with room succeeds', async () => {
    const full = join(fx.dir, 'full');
    mkdirSync(full);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs', full], { stdio: 'pipe' });
    } catch {
      console.warn('skipped: cannot mount a small tmpfs here');
      return;
    }
    try {
      const device = join(full, 'card.img');
      const error = await flash({ ignition: fx.ignition, image: fx.xz, device, yes: true }, quiet).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FlashError);
      expect((error as FlashError).message).toMatch(/interrupted after [\d.]+ MiB of 12\.0 MiB: .*no space left on device/i);
      expect(() => parseGpt(readFileSync(device).subarray(0, MiB))).toThrow(/not a GPT/);
      execFileSync('mount', ['-o', 'remount,size=16m', full]);
      await flash({ ignition: fx.ignition, image: fx.xz, device, yes: true }, quiet);
      expect(ignitionOn(device, fx).equals(readFileSync(fx.ignition))).toBe(true);
    } finally {
      execFileSync('umount', [full]);
    }
  });
});

describe('the lotse flash command', () => {
  let fx: DiskFixture;
  let cli: string;
  beforeAll(() => {
    // Large enough that writing and reading back take a while; mostly zeros so it compresses fast.
    fx = buildDiskFixture(128, 1);
    cli = join(fx.dir, 'lotse-flash.js');
    buildSync({
      stdin: {
        contents:
          "const { Command } = require('commander'); const { registerFlash } = require('./cli/commands/flash');" +
          "const program = new Command('lotse'); registerFlash(program);" +
          'program.parseAsync(process.argv).catch((e) => { process.stderr.write(String(e) + "\\n"); process.exit(1); });',
        resolveDir: repo,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      outfile: cli,
      logLevel: 'error',
    });
  });
  afterAll(() => fx?.cleanup());

  function run(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
    const child = spawn(process.execPath, [cli, 'flash', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const exit = new Promise<{ code: number | null; signal: string | null; stderr: string }>((done) =>
      child.on('close', (code, signal) => done({ code, signal, stderr })),
    );
    return { child, exit };
  }

  test('exits 2 without --yes and names what it would erase', async () => {
    const device = join(fx.dir, 'dry.img');
    const { exit } = run(['--ignition', fx.ignition, '--image', fx.xz, '--device', device]);
    const { code, stderr } = await exit;
    expect(code).toBe(2);
    expect(stderr).toContain(`lotse flash would ERASE everything on ${device}`);
    expect(stderr).toContain('lotse flash: nothing was written');
  });

  test('killed while writing, it leaves a partial card that a re-run replaces', async () => {
    const device = join(fx.dir, 'killed.img');
    const args = ['--ignition', fx.ignition, '--image', fx.xz, '--device', device, '--yes'];
    const first = run(args);
    const deadline = Date.now() + 20000;
    // Kill as soon as the first block has landed: the process is then mid-write.
    while ((statSync(device, { throwIfNoEntry: false })?.size ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error('the flash never started writing');
      await new Promise((r) => setTimeout(r, 1));
    }
    first.child.kill('SIGKILL');
    const killed = await first.exit;
    expect(killed.signal).toBe('SIGKILL');
    expect(statSync(device).size).toBeLessThan(fx.size);

    const second = await run(args).exit;
    expect(second.stderr).toContain('is ready');
    expect(second.code).toBe(0);
    expect(statSync(device).size).toBe(fx.size);
    expect(ignitionOn(device, fx).equals(readFileSync(fx.ignition))).toBe(true);
  });
});
