import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from './tools';

/**
 * The filesystem at `offset` on `path`, in the spelling the ext2fs unix I/O manager understands
 * (`FILE?offset=BYTES`): debugfs then works inside one partition of a whole-disk image or card,
 * with no loop device, no partition node and no mount.
 */
export function ext4At(path: string, offset: number): string {
  return `${path}?offset=${offset}`;
}

/**
 * Runs debugfs requests from a command file. debugfs exits 0 even when a request fails, so callers
 * check the result (stat, cat) rather than trusting the exit code.
 */
export async function debugfsScript(fs: string, requests: string[], writable: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lotse-debugfs-'));
  try {
    const script = join(dir, 'requests');
    await writeFile(script, requests.join('\n') + '\n');
    const { stdout } = await runTool('debugfs', [...(writable ? ['-w'] : []), '-f', script, fs]);
    return stdout.toString('utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function debugfsRequest(fs: string, request: string): Promise<{ stdout: Buffer; stderr: string }> {
  return runTool('debugfs', ['-R', request, fs]);
}

export interface Ext4Stat {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
}

/** `stat PATH` inside the filesystem; undefined when the path does not exist. */
export async function ext4Stat(fs: string, path: string): Promise<Ext4Stat | undefined> {
  const { stdout } = await debugfsRequest(fs, `stat ${path}`);
  const text = stdout.toString('utf8');
  const m = /Type: (\S+)\s+Mode:\s+([0-7]+)/.exec(text);
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+).*?Size: (\d+)/s.exec(text);
  if (!m || !owner) return undefined;
  return { type: m[1], mode: parseInt(m[2], 8), uid: Number(owner[1]), gid: Number(owner[2]), size: Number(owner[3]) };
}

/** The bytes of a file inside the filesystem (`cat` streams them raw to stdout). */
export async function ext4Read(fs: string, path: string): Promise<Buffer> {
  return (await debugfsRequest(fs, `cat ${path}`)).stdout;
}
