/**
 * Flash throughput for a 1 GiB GPT image (zeros with 1 MiB of random data every 8 MiB, xz-compressed)
 * onto an image file, next to `xz -dc | dd bs=4M of=FILE conv=fsync` on the same image.
 *
 *   npx esbuild bench/flash.ts --bundle --platform=node --outfile=/tmp/flash-bench.js && node /tmp/flash-bench.js [runs]
 *
 * "write" is decompress + write + fsync (what dd does); "flash" is the whole command: checks, write,
 * fsync, read-back verification and Ignition placement. lotse runs xz with --threads=0, so the pipeline
 * is also timed that way: the first peer is the one to compare with, the second shows what threads alone buy.
 */
import { execFileSync, execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flash } from '../flash/flash';
import { describeImage } from '../flash/image-source';
import { createByteProgress } from '../flash/byte-progress';
import { describeTarget } from '../flash/target';
import { writeImage } from '../flash/writer';

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;

function buildImage(dir: string): string {
  const raw = join(dir, 'bench.raw');
  execFileSync('truncate', ['-s', String(SIZE), raw]);
  execFileSync('sgdisk', ['-n1:2048:+64M', '-t1:ef00', '-c1:EFI-SYSTEM', '-n2:0:+128M', '-t2:8300', '-c2:boot', '-n3:0:0', '-c3:root', raw], { stdio: 'ignore' });
  execSync(`mkfs.vfat -F 16 -n EFI-SYSTEM --offset 2048 ${raw} 65536`, { stdio: 'ignore' });
  execSync(`mkfs.ext4 -q -L boot -E offset=${(2048 + 131072) * 512} ${raw} 131072k`, { stdio: 'ignore' });
  const fd = openSync(raw, 'r+');
  for (let at = 200 * MiB; at + MiB < SIZE - MiB; at += 8 * MiB) writeSync(fd, randomBytes(MiB), 0, MiB, at);
  closeSync(fd);
  execFileSync('xz', ['-k', '-6', '-T2', raw]);
  return `${raw}.xz`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mbps = (seconds: number): number => SIZE / 1e6 / seconds;

/**
 * CPU seconds of this process and its reaped children (xz, sh with its xz and dd) from /proc/self/stat:
 * on a shared machine wall time mostly measures the neighbours, CPU time what the pipeline itself costs.
 */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0);
  return ticks / Number(execSync('getconf CLK_TCK'));
}

interface Timing {
  wall: number;
  cpu: number;
}

async function timed(run: () => Promise<unknown> | unknown): Promise<Timing> {
  const cpu = cpuSeconds();
  const start = process.hrtime.bigint();
  await run();
  return { wall: Number(process.hrtime.bigint() - start) / 1e9, cpu: cpuSeconds() - cpu };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'lotse-flash-bench-'));
  try {
    const xz = buildImage(dir);
    const ignition = join(dir, 'pi.ign');
    writeFileSync(ignition, JSON.stringify({ ignition: { version: '3.4.0' } }));
    const target = join(dir, 'card.img');
    const quiet = { write: (): boolean => true, isTTY: false };
    const results: Record<string, Timing[]> = { 'xz -dc | dd bs=4M conv=fsync': [], 'xz -T0 -dc | dd bs=4M conv=fsync': [], 'lotse write (xz, write, fsync)': [], 'lotse flash (+ verify, Ignition)': [] };
    for (let i = 0; i < runs; i++) {
      rmSync(target, { force: true });
      results['xz -dc | dd bs=4M conv=fsync'].push(await timed(() => execSync(`xz -dc ${xz} | dd bs=4M of=${target} conv=fsync status=none`)));
      rmSync(target, { force: true });
      results['xz -T0 -dc | dd bs=4M conv=fsync'].push(await timed(() => execSync(`xz -T0 -dc ${xz} | dd bs=4M of=${target} conv=fsync status=none`)));
      rmSync(target, { force: true });
      const image = await describeImage(xz);
      const t = await describeTarget(target);
      results['lotse write (xz, write, fsync)'].push(await timed(() => writeImage(image, t, createByteProgress(quiet))));
      rmSync(target, { force: true });
      results['lotse flash (+ verify, Ignition)'].push(await timed(() => flash({ ignition, image: xz, device: target, yes: true }, { out: quiet })));
    }
    console.log(`1 GiB image (${execSync(`du -m ${xz} | cut -f1`).toString().trim()} MiB as .xz), ${runs} runs, median wall and CPU (user+sys, all processes):`);
    const peer = results['xz -dc | dd bs=4M conv=fsync'];
    for (const [name, timings] of Object.entries(results)) {
      const wall = median(timings.map((t) => t.wall));
      const cpu = median(timings.map((t) => t.cpu));
      const vsPeer = `${(median(peer.map((t) => t.wall)) / wall).toFixed(2)}x dd, CPU ${cpu.toFixed(2)} s = ${(median(peer.map((t) => t.cpu)) / cpu).toFixed(2)}x dd`;
      console.log(`  ${name.padEnd(34)} ${mbps(wall).toFixed(0).padStart(5)} MB/s  ${vsPeer}  (${timings.map((t) => t.wall.toFixed(2)).join(' s, ')} s)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
