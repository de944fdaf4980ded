/**
 * The infra ("pause") container's image, built on the node: no registry is assumed reachable, so
 * the agent imports a one-file root filesystem holding a hand-assembled static ELF that blocks in
 * the kernel forever. It holds the pod's network namespace and uses no CPU and ~no memory.
 */

export const PAUSE_IMAGE = 'localhost/lotse-pause:1';
export const PAUSE_COMMAND = ['/pause'];

/** Machine code per Node arch: loop { block until a signal } (pause(2) on x86_64, ppoll(2) on arm64). */
const CODE: Record<string, { machine: number; code: number[] }> = {
  // mov eax, 34 (pause); syscall; jmp back
  x64: { machine: 0x3e, code: [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7] },
  // mov x0..x3, #0; mov x8, #73 (ppoll); svc #0; b back to start
  arm64: {
    machine: 0xb7,
    code: [0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd2800928, 0xd4000001, 0x17fffffa].flatMap((w) => [
      w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff,
    ]),
  },
};

/** A minimal ELF64 executable: header, one PT_LOAD segment covering the file, then the code. */
export function pauseBinary(arch: string = process.arch): Buffer {
  const spec = CODE[arch];
  if (!spec) throw new Error(`no built-in pause binary for ${arch}: pass --pause-image with an image whose /pause blocks forever`);
  const base = 0x400000;
  const headerSize = 64 + 56;
  const buf = Buffer.alloc(headerSize + spec.code.length);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  buf.writeUInt16LE(2, 16); // ET_EXEC
  buf.writeUInt16LE(spec.machine, 18);
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(BigInt(base + headerSize), 24); // entry
  buf.writeBigUInt64LE(64n, 32); // program headers right after the ELF header
  buf.writeUInt16LE(64, 52);
  buf.writeUInt16LE(56, 54);
  buf.writeUInt16LE(1, 56);
  const ph = 64;
  buf.writeUInt32LE(1, ph); // PT_LOAD
  buf.writeUInt32LE(5, ph + 4); // R+X
  buf.writeBigUInt64LE(BigInt(base), ph + 16);
  buf.writeBigUInt64LE(BigInt(base), ph + 24);
  buf.writeBigUInt64LE(BigInt(buf.length), ph + 32);
  buf.writeBigUInt64LE(BigInt(buf.length), ph + 40);
  buf.writeBigUInt64LE(0x1000n, ph + 48);
  buf.set(spec.code, headerSize);
  return buf;
}

/** A ustar archive holding one executable file: all `docker import` needs. */
export function singleFileTar(name: string, content: Buffer, mode = 0o755): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(mode, 7), 100);
  header.write(octal(0, 7), 108);
  header.write(octal(0, 7), 116);
  header.write(octal(content.length, 11), 124);
  header.write(octal(Math.floor(Date.now() / 1000), 11), 136);
  header.write('        ', 148); // checksum is computed with its own field as spaces
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(octal(sum, 6) + ' ', 148);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width, '0') + '\u0000';
}
