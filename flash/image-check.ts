import { type ChecksumResult, verifyChecksumFile } from './checksum-file';
import { messageOf, refuse } from './errors';
import { GPT_HEAD_BYTES, type GptTable, parseGpt, SECTOR } from './gpt';
import { describeImage, type ImageSource, readImageHead } from './image-source';

export interface CheckedImage {
  image: ImageSource;
  gpt: GptTable;
  checksum: ChecksumResult;
}

/**
 * Everything that can be known about the image before the device is touched: its checksum (when one is
 * published beside it), its decompressed size, and a partition table whose extent matches that size.
 */
export async function checkImage(path: string): Promise<CheckedImage> {
  const checksum = await verifyChecksumFile(path);
  const image = await describeImage(path);
  if (image.size < 34 * SECTOR || image.size % SECTOR !== 0) {
    throw refuse(`the image ${path} is ${image.size} bytes once decompressed: a disk image is a whole number of ${SECTOR}-byte sectors and at least 34 of them`);
  }
  const head = await readImageHead(image, Math.min(image.size, GPT_HEAD_BYTES));
  const gpt = parseGptOrRefuse(head, path);
  checkExtent(gpt, image);
  return { image, gpt, checksum };
}

function parseGptOrRefuse(head: Buffer, path: string): GptTable {
  try {
    return parseGpt(head);
  } catch (e) {
    throw refuse(`the image ${path} is not usable: ${messageOf(e)}. Expected a GPT disk image such as Fedora CoreOS's metal .raw.xz.`);
  }
}

/** A backup header or partition past the end means the image was cut short (an interrupted download). */
function checkExtent(gpt: GptTable, image: ImageSource): void {
  const end = (gpt.backupLba + 1) * SECTOR;
  if (end > image.size) {
    throw refuse(`the image ${image.path} is truncated: its GPT expects ${end} bytes but it holds ${image.size}; download it again`);
  }
  for (const p of gpt.partitions) {
    if (p.offset + p.size > image.size) {
      throw refuse(`partition ${p.number} (${p.name || p.typeGuid}) of ${image.path} ends past the end of the image: the image is truncated`);
    }
  }
}
