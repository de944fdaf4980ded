import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type OnReadOpts, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LandingSocket {
  /** Our end: each read lands in the buffer `onread` names, with no allocation or copy in JavaScript. */
  reader: Socket;
  /** The end to hand to a child as its stdout; close it here once the child has it. */
  writer: Socket;
}

/**
 * A connected pair of Unix sockets whose reading end uses `onread`. A child's `stdio: 'pipe'` cannot be given
 * `onread` (Node creates that socket itself), so the pair is made by connecting to a listener in a fresh
 * directory that only this user can enter, so no other process can connect in between.
 */
export async function landingSocket(onread: OnReadOpts): Promise<LandingSocket> {
  const dir = await mkdtemp(join(tmpdir(), 'lotse-flash-'));
  const server = createServer();
  try {
    const path = join(dir, 'xz.sock');
    server.listen(path);
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const reader = connect({ path, onread });
    const [[writer]] = await Promise.all([accepted, once(reader, 'connect')]);
    return { reader, writer };
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
