import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { GPT_HEAD_BYTES, parseGpt } from './gpt';
import type { CheckedImage } from './image-check';
import type { Target } from './target';
import { formatBytes } from './units';

export interface PlanExtras {
  ignition: string;
  firmware?: string;
}

/** What a run would destroy and write, in words, so a person can recognise a wrong device before saying --yes. */
export async function erasePlan(target: Target, checked: CheckedImage, extras: PlanExtras): Promise<string> {
  const lines = [`lotse flash would ERASE everything on ${target.path}:`, `  target:  ${await describeTargetLine(target)}`];
  const current = await currentPartitions(target);
  if (current) lines.push(`  now on it: ${current}`);
  const { image, gpt, checksum } = checked;
  lines.push(
    `  write:   ${basename(image.path)} (${formatBytes(image.size)}${image.compressed ? ' decompressed' : ''}, GPT with ${gpt.partitions.length} partitions, ` +
      `${checksum.verified ? `sha256 matches ${basename(checksum.checksumFile)}` : 'no checksum file beside it'})`,
    `  then:    ${extras.ignition} as /ignition/config.ign in the boot partition`,
  );
  if (extras.firmware) lines.push(`  and:     the firmware in ${extras.firmware} into the EFI system partition`);
  lines.push('Run the same command with --yes to do it.');
  return lines.join('\n');
}

async function describeTargetLine(target: Target): Promise<string> {
  if (target.kind === 'file') {
    return target.size === undefined ? `${target.path} (a new file)` : `${target.path} (an existing ${formatBytes(target.size)} file, overwritten)`;
  }
  return `${target.path} (${target.device.name}, ${formatBytes(target.size)}${target.hardware ? `, ${target.hardware}` : ''})`;
}

/** The partitions the target holds now, from its own GPT; undefined when it has none or cannot be read. */
async function currentPartitions(target: Target): Promise<string | undefined> {
  if (target.size === undefined || target.size === 0) return undefined;
  try {
    const handle = await open(target.path, 'r');
    const head = Buffer.alloc(Math.min(GPT_HEAD_BYTES, target.size));
    try {
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
    const parts = parseGpt(head).partitions;
    return parts.length === 0 ? 'an empty GPT' : parts.map((p) => `${p.number} ${p.name || '(unnamed)'} ${formatBytes(p.size)}`).join(', ');
  } catch {
    return undefined;
  }
}
