import { crc32 } from 'node:zlib';

/** Images for SD cards and the Fedora CoreOS metal images use 512-byte logical sectors. */
export const SECTOR = 512;

/** Bytes from the start of a disk that hold the protective MBR, the GPT header and a standard entry array. */
export const GPT_HEAD_BYTES = 1024 * 1024;

export const EFI_SYSTEM_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

export interface GptPartition {
  /** 1-based, as sgdisk and the kernel number them. */
  number: number;
  typeGuid: string;
  name: string;
  /** Byte offset and length on the disk. */
  offset: number;
  size: number;
}

export interface GptTable {
  diskGuid: string;
  /** The sector the header says its backup copy lives in; the image ends right after it. */
  backupLba: number;
  partitions: GptPartition[];
}

/**
 * Parses the primary GPT from the first bytes of a disk, checking the signature and both CRCs,
 * so a truncated or foreign image is caught before it is written anywhere.
 */
export function parseGpt(head: Buffer): GptTable {
  const header = head.subarray(SECTOR, 2 * SECTOR);
  if (header.length < 92 || header.toString('latin1', 0, 8) !== 'EFI PART') {
    throw new Error('no GPT header at sector 1 (signature "EFI PART" missing): not a GPT disk image');
  }
  const headerSize = header.readUInt32LE(12);
  const wantHeaderCrc = header.readUInt32LE(16);
  const forCrc = Buffer.from(header.subarray(0, headerSize));
  forCrc.writeUInt32LE(0, 16);
  if (crc32(forCrc) !== wantHeaderCrc) throw new Error('the GPT header checksum does not match: the image is damaged');
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  const entriesStart = entriesLba * SECTOR;
  const entriesEnd = entriesStart + count * entrySize;
  if (entrySize < 128 || entriesEnd > head.length) {
    throw new Error(`the GPT entry array (${count} x ${entrySize} bytes at sector ${entriesLba}) lies outside the first ${head.length} bytes`);
  }
  const entries = head.subarray(entriesStart, entriesEnd);
  if (crc32(entries) !== header.readUInt32LE(88)) throw new Error('the GPT partition array checksum does not match: the image is damaged');
  return {
    diskGuid: guid(header, 56),
    backupLba: Number(header.readBigUInt64LE(32)),
    partitions: readEntries(entries, count, entrySize),
  };
}

function readEntries(entries: Buffer, count: number, entrySize: number): GptPartition[] {
  const partitions: GptPartition[] = [];
  for (let i = 0; i < count; i++) {
    const e = entries.subarray(i * entrySize, (i + 1) * entrySize);
    const typeGuid = guid(e, 0);
    if (typeGuid === '00000000-0000-0000-0000-000000000000') continue;
    const first = Number(e.readBigUInt64LE(32));
    const last = Number(e.readBigUInt64LE(40));
    partitions.push({
      number: i + 1,
      typeGuid,
      name: e.toString('utf16le', 56, 128).replace(/\0.*$/s, ''),
      offset: first * SECTOR,
      size: (last - first + 1) * SECTOR,
    });
  }
  return partitions;
}

/** GUIDs are stored mixed-endian: the first three fields little-endian, the rest as bytes. */
function guid(b: Buffer, at: number): string {
  const hex = (from: number, to: number): string => b.subarray(at + from, at + to).toString('hex');
  const le = (from: number, to: number): string => Buffer.from(b.subarray(at + from, at + to)).reverse().toString('hex');
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(8, 10)}-${hex(10, 16)}`.toUpperCase();
}
