import type Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import type { LogOptions } from './container-runtime';

/** A container's output as kubectl logs wants it: stdout and stderr together, followed or not. */
export async function containerLogs(docker: Docker, id: string, options: LogOptions): Promise<Readable> {
  const container = docker.getContainer(id);
  const info = await container.inspect();
  const base = {
    stdout: true,
    stderr: true,
    timestamps: options.timestamps,
    ...(options.tailLines !== undefined ? { tail: options.tailLines } : {}),
    ...(options.sinceSeconds ? { since: Math.floor(Date.now() / 1000) - options.sinceSeconds } : {}),
  };
  const out = new PassThrough();
  if (options.follow) {
    const stream = (await container.logs({ ...base, follow: true })) as NodeJS.ReadableStream;
    if (info.Config.Tty) stream.pipe(out);
    else {
      docker.modem.demuxStream(stream, out, out);
      stream.on('end', () => out.end());
    }
    out.on('close', () => (stream as unknown as { destroy?: () => void }).destroy?.());
    return out;
  }
  const raw = (await container.logs({ ...base, follow: false })) as unknown as Buffer;
  out.end(info.Config.Tty ? raw : demuxBuffer(raw));
  return out;
}

/** Strips Docker's 8-byte stream headers from a non-follow log buffer. */
function demuxBuffer(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    if (type > 2 || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) return buf; // not multiplexed
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(parts);
}
