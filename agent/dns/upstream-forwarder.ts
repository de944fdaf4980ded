import dgram from 'node:dgram';
import net from 'node:net';
import type { Upstream } from './resolv-conf';

/**
 * Relays a query unchanged to the node's resolvers, one after another until one answers within
 * timeoutMs, over the transport the client used (a truncated UDP answer makes the client retry
 * over TCP, which we then relay as TCP too).
 */
export async function forwardQuery(query: Buffer, upstreams: Upstream[], transport: 'udp' | 'tcp', timeoutMs: number): Promise<Buffer | undefined> {
  for (const upstream of upstreams) {
    const reply = await (transport === 'udp' ? viaUdp : viaTcp)(query, upstream, timeoutMs).catch(() => undefined);
    if (reply) return reply;
  }
  return undefined;
}

function viaUdp(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (reply?: Buffer): void => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(), timeoutMs);
    socket.on('error', () => done());
    socket.on('message', (msg) => {
      // Same transaction id, or it is not our answer.
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) done(msg);
    });
    socket.send(query, upstream.port, upstream.address);
  });
}

function viaTcp(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: upstream.address, port: upstream.port });
    let buf = Buffer.alloc(0);
    const done = (reply?: Buffer): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done(), timeoutMs);
    socket.on('error', () => done());
    socket.on('connect', () => socket.write(frame(query)));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}

/** DNS over TCP: each message is preceded by its length in two bytes. */
export function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}
