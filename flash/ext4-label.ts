import { open } from 'node:fs/promises';

const SUPERBLOCK_OFFSET = 1024;
const MAGIC_OFFSET = 56;
const EXT_MAGIC = 0xef53;
const LABEL_OFFSET = 120;
const LABEL_LENGTH = 16;

/**
 * The volume label of the ext2/3/4 filesystem starting at `offset` on `path`, or undefined when none is
 * there. Read straight from the superblock, so no mount, no blkid and no partition device node is needed.
 */
export async function ext4LabelAt(path: string, offset: number): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const sb = Buffer.alloc(LABEL_OFFSET + LABEL_LENGTH);
    const { bytesRead } = await handle.read(sb, 0, sb.length, offset + SUPERBLOCK_OFFSET);
    if (bytesRead < sb.length || sb.readUInt16LE(MAGIC_OFFSET) !== EXT_MAGIC) return undefined;
    return sb.toString('utf8', LABEL_OFFSET, LABEL_OFFSET + LABEL_LENGTH).replace(/\0.*$/s, '');
  } finally {
    await handle.close();
  }
}
