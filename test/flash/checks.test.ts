import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expectedSha256, verifyChecksumFile } from '../../flash/checksum-file';
import { parseGpt } from '../../flash/gpt';
import { createByteProgress } from '../../flash/byte-progress';
import { buildDiskFixture, type DiskFixture, MiB } from './disk-fixture';

const HASH = 'ab'.repeat(32);

describe('checksum files', () => {
  test.each([
    ['a bare hash in IMAGE.sha256', `${HASH}\n`, true, HASH],
    ['a GNU line', `${'cd'.repeat(32)}  other.raw.xz\n${HASH}  img.raw.xz\n`, false, HASH],
    ['a GNU binary-mode line with a path', `${HASH} *dl/img.raw.xz\n`, false, HASH],
    ["Fedora's BSD-style CHECKSUM", `# comment\nSHA256 (img.raw.xz) = ${HASH.toUpperCase()}\n`, false, HASH],
    ['a folder list that does not name the image', `${HASH}  other.raw.xz\n`, false, undefined],
    ['a bare hash in a folder-wide list', `${HASH}\n`, false, undefined],
  ])('reads %s', (_what, text, own, want) => {
    expect(expectedSha256(text, 'img.raw.xz', own)).toBe(want);
  });

  test('no checksum file means not verified, a matching one is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lotse-sum-'));
    try {
      const image = join(dir, 'img.raw');
      writeFileSync(image, 'disk');
      expect(await verifyChecksumFile(image)).toEqual({ verified: false });
      const sum = '1044dec7206e8d7c9fbb4ae8f766668406d2567fc7fc1a160a9d4700fcf8f8e9'; // sha256sum of "disk"
      writeFileSync(join(dir, 'CHECKSUM'), `SHA256 (img.raw) = ${sum}\n`);
      expect(await verifyChecksumFile(image)).toEqual({ verified: true, checksumFile: join(dir, 'CHECKSUM'), sha256: sum });
      writeFileSync(join(dir, 'CHECKSUM'), `SHA256 (img.raw) = ${HASH}\n`);
      await expect(verifyChecksumFile(image)).rejects.toThrow(/does not match its checksum file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GPT parsing', () => {
  let fx: DiskFixture;
  beforeAll(() => {
    fx = buildDiskFixture(10, 0);
  });
  afterAll(() => fx?.cleanup());

  test('reads the partitions sgdisk made', () => {
    const gpt = parseGpt(readFileSync(fx.raw).subarray(0, MiB));
    expect(gpt.backupLba + 1).toBe((10 * MiB) / 512);
    expect(gpt.partitions.map((p) => [p.number, p.name, p.offset])).toEqual([
      [1, 'EFI-SYSTEM', fx.efi.offset],
      [2, 'boot', fx.boot.offset],
      [3, 'root', fx.root.offset],
    ]);
    expect(gpt.partitions[0].typeGuid).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  });

  test('catches a damaged header and a damaged partition array', () => {
    const head = readFileSync(fx.raw).subarray(0, MiB);
    const header = Buffer.from(head);
    header[512 + 40] ^= 1;
    expect(() => parseGpt(header)).toThrow(/header checksum/);
    const entries = Buffer.from(head);
    entries[1024 + 60] ^= 1;
    expect(() => parseGpt(entries)).toThrow(/partition array checksum/);
  });
});

describe('progress', () => {
  test('a terminal gets a bar with bytes, rate and time left', () => {
    let drawn = '';
    const tty = Object.assign(
      new Writable({
        write(chunk: Buffer, _enc, done): void {
          drawn += chunk.toString();
          done();
        },
      }),
      { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
    );
    const progress = createByteProgress(tty);
    progress.start('writing', 8 * MiB);
    progress.update(4 * MiB);
    progress.stop();
    expect(drawn).toMatch(/writing\s+\|.*\| \d+% [\d.]+ MiB\/8\.0 MiB [\d.]+ MB\/s ETA \S+/);
  });

  test('anything else gets plain lines', () => {
    let lines = '';
    const progress = createByteProgress({ write: (s: string) => (lines += s), isTTY: false }, 0);
    progress.start('verifying', 2 * MiB);
    progress.update(MiB);
    progress.stop();
    expect(lines.split('\n')).toEqual([
      expect.stringMatching(/^verifying: 1\.0 MiB of 2\.0 MiB \(50%\), [\d.]+ MB\/s, \S+ left$/),
      expect.stringMatching(/^verifying: 1\.0 MiB of 2\.0 MiB \(50%\)/),
      '',
    ]);
  });
});
