import { PassThrough, Duplex } from 'node:stream';
import { SpdyConnection, type SpdyStream } from '../../../../agent/server/spdy/spdy-connection';
import { controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, FrameReader, FrameType, HeaderCodec, headerDictionary, maxFrameBytes, words, type Frame, type SpdyHeaders } from '../../../../agent/server/spdy/spdy-frames';

test('the header dictionary is SPDY/3 draft 3 (1423 bytes, starting with "options")', () => {
  expect(headerDictionary.length).toBe(1423);
  expect(headerDictionary.subarray(4, 11).toString()).toBe('options');
});

test('header blocks round-trip through one compression context per direction, in order', async () => {
  const out = new HeaderCodec('compress');
  const back = new HeaderCodec('decompress');
  const blocks: SpdyHeaders[] = [{ streamtype: ['error'] }, { streamtype: ['stdout'], port: ['8080'] }, { multi: ['a', 'b'] }, {}];
  const compressed = await Promise.all(blocks.map((b) => out.run(encodeHeaderBlock(b))));
  // The second block of the same headers compresses better: the context is shared.
  expect(compressed[1].length).toBeLessThan(encodeHeaderBlock(blocks[1]).length + 20);
  for (let i = 0; i < blocks.length; i++) expect(decodeHeaderBlock(await back.run(compressed[i]))).toEqual(blocks[i]);
  out.close();
  back.close();
});

test('a header block that is not zlib with the dictionary is refused with the cause', async () => {
  const back = new HeaderCodec('decompress');
  await expect(back.run(Buffer.from('not zlib at all'))).rejects.toThrow(/SPDY header block cannot be decompressed/);
  back.close();
  expect(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 97]))).toThrow(/truncated/);
});

test('the frame reader splits frames fed a byte at a time and refuses oversized or foreign-version frames', () => {
  const bytes = Buffer.concat([dataFrame(1, Buffer.from('hello'), false), controlFrame(FrameType.ping, 0, words(7)), dataFrame(3, Buffer.alloc(0), true)]);
  const reader = new FrameReader();
  const frames: Frame[] = [];
  for (const b of bytes) frames.push(...reader.push(Buffer.from([b])));
  expect(frames).toEqual([
    { kind: 'data', streamId: 1, fin: false, data: Buffer.from('hello') },
    { kind: 'control', type: FrameType.ping, flags: 0, payload: words(7) },
    { kind: 'data', streamId: 3, fin: true, data: Buffer.alloc(0) },
  ]);
  const big = Buffer.alloc(8);
  big.writeUIntBE(maxFrameBytes + 1, 5, 3);
  expect(() => new FrameReader().push(big)).toThrow(/exceeds the limit/);
  const v2 = Buffer.from([0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1]);
  expect(() => new FrameReader().push(v2)).toThrow(/version 2 is not supported/);
});

/** Two ends of an in-memory connection. */
function socketPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = Duplex.from({ readable: bToA, writable: aToB });
  const b = Duplex.from({ readable: aToB, writable: bToA });
  // Destroying one end aborts the other's pipes; the tests look at frames, not at that error.
  for (const end of [a, b]) end.on('error', () => undefined);
  return [a, b];
}

test('a connection answers SYN_STREAM with SYN_REPLY, carries data both ways, echoes PING, ends with GOAWAY', async () => {
  const [server, client] = socketPair();
  const conn = new SpdyConnection(server);
  const opened: SpdyStream[] = [];
  conn.on('stream', (s: SpdyStream) => {
    opened.push(s);
    s.incoming.on('data', (d: Buffer) => s.write(Buffer.from(d.toString().toUpperCase())));
    s.incoming.on('end', () => s.end());
  });
  const frames: Frame[] = [];
  const reader = new FrameReader();
  client.on('data', (c: Buffer) => frames.push(...reader.push(c)));
  const compress = new HeaderCodec('compress');
  const block = await compress.run(encodeHeaderBlock({ streamtype: ['data'], requestid: ['0'] }));
  client.write(controlFrame(FrameType.synStream, 0, Buffer.concat([words(1, 0), Buffer.from([0, 0]), block])));
  client.write(dataFrame(1, Buffer.from('shout'), true));
  client.write(controlFrame(FrameType.ping, 0, words(5)));
  await until(() => frames.some((f) => f.kind === 'data' && f.fin));
  expect(opened.map((s) => s.headers)).toEqual([{ streamtype: ['data'], requestid: ['0'] }]);
  const reply = frames.find((f) => f.kind === 'control' && f.type === FrameType.synReply);
  expect(reply && reply.kind === 'control' && reply.payload.readUInt32BE(0)).toBe(1);
  const inflate = new HeaderCodec('decompress');
  expect(decodeHeaderBlock(await inflate.run((reply as { payload: Buffer }).payload.subarray(4)))).toEqual({});
  expect(Buffer.concat(frames.flatMap((f) => (f.kind === 'data' ? [f.data] : []))).toString()).toBe('SHOUT');
  expect(frames.some((f) => f.kind === 'control' && f.type === FrameType.ping && f.payload.readUInt32BE(0) === 5)).toBe(true);
  expect(frames.some((f) => f.kind === 'control' && f.type === FrameType.windowUpdate)).toBe(true);
  conn.close();
  await until(() => frames.some((f) => f.kind === 'control' && f.type === FrameType.goAway));
  compress.close();
  inflate.close();
});

test('a stream id reused or even (server-initiated) is reset, and garbage on the wire drops the connection', async () => {
  const [server, client] = socketPair();
  const conn = new SpdyConnection(server);
  const errors: Error[] = [];
  conn.on('protocolError', (e: Error) => errors.push(e));
  const frames: Frame[] = [];
  const reader = new FrameReader();
  client.on('data', (c: Buffer) => frames.push(...reader.push(c)));
  const compress = new HeaderCodec('compress');
  client.write(controlFrame(FrameType.synStream, 0, Buffer.concat([words(2, 0), Buffer.from([0, 0]), await compress.run(encodeHeaderBlock({}))])));
  await until(() => frames.some((f) => f.kind === 'control' && f.type === FrameType.rstStream));
  client.write(Buffer.from([0x80, 0x07, 0, 1, 0, 0, 0, 0]));
  await until(() => errors.length > 0);
  expect(errors[0].message).toMatch(/version 7/);
  compress.close();
});

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error('condition not met within 2 s');
}
