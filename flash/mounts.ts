import { readFile } from 'node:fs/promises';
import { fail } from './errors';

export interface MountEntry {
  source: string;
  mountpoint: string;
  fstype: string;
}

/** The kernel's mount table; tests point `path` at a file of their own to simulate a mount. */
export async function readMounts(path = '/proc/mounts'): Promise<MountEntry[]> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw fail(`cannot read the mount table ${path}: ${e.message}`);
  });
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [source = '', mountpoint = '', fstype = ''] = line.split(' ').map(unescapeOctal);
      return { source, mountpoint, fstype };
    });
}

/** /proc/mounts writes spaces, tabs, newlines and backslashes as \040-style octal escapes. */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Active swap areas, as mount-like entries: a card in use as swap is not in the mount table but is
 * just as busy. Missing /proc/swaps (no swap support) means none.
 */
export async function readSwaps(path = '/proc/swaps'): Promise<MountEntry[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => ({ source: unescapeOctal(line.split(/\s+/)[0]), mountpoint: '[swap]', fstype: 'swap' }));
}
