import { EventEmitter } from 'node:events';
import { PassThrough, type Duplex } from 'node:stream';
import { controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, FrameReader, FrameType, flagFin, HeaderCodec, rstStatus, words, type Frame, type SpdyHeaders } from './spdy-frames';

/** Most streams a client may open on one connection (exec uses up to 5, each port-forward 2). */
const maxStreams = 64;
/** Bytes per outgoing data frame. */
const chunkBytes = 32 * 1024;

/** One client-opened stream: what the client sends comes out of `incoming`; write/end answer it. */
export interface SpdyStream {
  id: number;
  headers: SpdyHeaders;
  incoming: PassThrough;
  write(data: Buffer): void;
  /** Half-closes our side (FIN). */
  end(): void;
}

/**
 * The server side of a SPDY/3 connection after Kubernetes' SPDY/3.1 upgrade: the client opens
 * streams (SYN_STREAM, answered at once with SYN_REPLY, as Kubernetes' client waits for it),
 * pings, and closes. Flow control is kept simple: each data frame read is acknowledged with a
 * WINDOW_UPDATE of its size, and incoming window updates are not enforced.
 */
export class SpdyConnection extends EventEmitter {
  private readonly reader = new FrameReader();
  private readonly inflate = new HeaderCodec('decompress');
  private readonly deflate = new HeaderCodec('compress');
  private readonly streams = new Map<number, SpdyStream & { remoteClosed: boolean; localClosed: boolean }>();
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<void> = Promise.resolve();
  private closed = false;
  private tornDown = false;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        return this.fail((err as Error).message);
      }
      for (const f of frames) this.inbound = this.inbound.then(() => this.handle(f)).catch((err: Error) => this.fail(err.message));
    });
    socket.on('close', () => this.teardown());
    socket.on('error', () => this.teardown());
  }

  /** Sends GOAWAY once everything queued is written, then closes the connection. */
  close(): void {
    if (this.closed) return;
    this.send(() => controlFrame(FrameType.goAway, 0, words(this.lastStreamId(), 0)));
    this.outbound = this.outbound.then(() => {
      this.socket.end();
    });
    this.closed = true;
  }

  private async handle(f: Frame): Promise<void> {
    if (f.kind === 'data') return this.onData(f.streamId, f.data, f.fin);
    switch (f.type) {
      case FrameType.synStream:
        return this.onSynStream(f.payload, f.flags);
      case FrameType.rstStream: {
        const s = this.streams.get(f.payload.readUInt32BE(0) & 0x7fffffff);
        if (s) {
          s.remoteClosed = s.localClosed = true;
          s.incoming.end();
          this.streams.delete(s.id);
          this.emit('reset', s);
        }
        return;
      }
      case FrameType.ping:
        return this.send(() => controlFrame(FrameType.ping, 0, f.payload));
      case FrameType.goAway:
        this.emit('goaway');
        return;
      case FrameType.headers:
        await this.inflate.run(f.payload.subarray(4)); // keeps the shared context in step
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE: nothing to enforce here
    }
  }

  private async onSynStream(payload: Buffer, flags: number): Promise<void> {
    if (payload.length < 10) throw new Error('SPDY SYN_STREAM frame is truncated');
    const id = payload.readUInt32BE(0) & 0x7fffffff;
    const headers = decodeHeaderBlock(await this.inflate.run(payload.subarray(10)));
    if (this.streams.has(id) || id % 2 === 0 || this.streams.size >= maxStreams) {
      this.send(() => controlFrame(FrameType.rstStream, 0, words(id, this.streams.has(id) ? rstStatus.protocolError : rstStatus.refusedStream)));
      return;
    }
    const incoming = new PassThrough();
    const stream = {
      id,
      headers,
      incoming,
      remoteClosed: (flags & flagFin) !== 0,
      localClosed: false,
      write: (data: Buffer) => {
        if (stream.localClosed || this.closed) return;
        for (let at = 0; at < data.length; at += chunkBytes) {
          const part = data.subarray(at, at + chunkBytes);
          this.send(() => dataFrame(id, part, false));
        }
      },
      end: () => {
        if (stream.localClosed) return;
        stream.localClosed = true;
        if (!this.closed) this.send(() => dataFrame(id, Buffer.alloc(0), true));
      },
    };
    this.streams.set(id, stream);
    this.send(async () => controlFrame(FrameType.synReply, 0, Buffer.concat([words(id), await this.deflate.run(encodeHeaderBlock({}))])));
    if (stream.remoteClosed) incoming.end();
    this.emit('stream', stream);
  }

  private onData(id: number, data: Buffer, fin: boolean): void {
    const s = this.streams.get(id);
    if (!s || s.remoteClosed) return;
    if (data.length) {
      s.incoming.write(data);
      this.send(() => controlFrame(FrameType.windowUpdate, 0, words(id, data.length)));
    }
    if (fin) {
      s.remoteClosed = true;
      s.incoming.end();
    }
  }

  private send(frame: () => Buffer | Promise<Buffer>): void {
    this.outbound = this.outbound.then(async () => {
      const bytes = await frame();
      if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
    }).catch((err: Error) => this.fail(err.message));
  }

  private lastStreamId(): number {
    return Math.max(0, ...this.streams.keys());
  }

  private fail(message: string): void {
    this.emit('protocolError', new Error(message));
    this.socket.destroy();
  }

  private teardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    this.closed = true;
    for (const s of this.streams.values()) s.incoming.end();
    this.streams.clear();
    this.inflate.close();
    this.deflate.close();
    this.emit('close');
  }
}
