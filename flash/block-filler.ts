import { createHash } from 'node:crypto';

/** Where a source puts the image's bytes: straight into the free tail of the block being filled. */
export interface BlockSink {
  /** The free tail of the current block; the next read goes here. Never empty. */
  space(): Buffer;
  /** `n` bytes were put at the start of `space()`. False: read nothing more until `room()` resolves. */
  landed(n: number): boolean;
  room(): Promise<void>;
}

/** Writes one full block (the last may be short) at `position`; settles once the bytes are on the target. */
export type BlockWrite = (data: Buffer, position: number) => Promise<void>;

/**
 * The size of each write. The target is written through the page cache, so the card still gets the large
 * requests the kernel's writeback assembles; what the size decides is the copy into the page cache. A block
 * that fits the CPU's L2 cache is copied while still hot from the read and the hash: measured on the 1 GiB
 * bench, 4 MiB writes spent ~2.5 s of CPU in that copy, 1 MiB ~1.8 s, 256 KiB ~0.1 s (bench/RESULTS.md, issue 20).
 */
export const WRITE_BLOCK = 256 * 1024;

/** Blocks in the pool (8 MiB): enough for the reads to run on while a slow write, or a card's sync, is under way. */
const DEPTH = 32;

/**
 * Collects the image into a fixed pool of WRITE_BLOCK-sized buffers and writes full blocks in order, one at a time,
 * on libuv's thread pool while the next one fills. Reused buffers mean no allocation and no page faults per
 * read, and each read is hashed the moment it lands, while it is still in the CPU cache, in pieces small
 * enough (one read) that the decompressor is never left waiting for a reader busy hashing a whole block.
 */
export class BlockFiller implements BlockSink {
  private readonly free: Buffer[] = [];
  private block: Buffer;
  private filled = 0;
  private queued = 0;
  private writes: Promise<void> = Promise.resolve();
  private waiting: (() => void) | undefined;
  /** After a failed write nothing more is written: reads still land, harmlessly, until the source is stopped. */
  private broken = false;
  private readonly hash = createHash('sha256');
  private rejectFailed: (reason: unknown) => void = () => undefined;
  /** Bytes whose write has completed: what the target is known to hold. */
  durable = 0;
  /** Rejects with the first write error; the source then has to be stopped, as it may be waiting for room. */
  readonly failed: Promise<never>;

  constructor(private readonly write: BlockWrite) {
    for (let i = 0; i < DEPTH; i++) this.free.push(Buffer.allocUnsafeSlow(WRITE_BLOCK));
    this.block = this.take();
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
  }

  space(): Buffer {
    return this.block.subarray(this.filled);
  }

  landed(n: number): boolean {
    if (this.broken) return false;
    this.hash.update(this.block.subarray(this.filled, this.filled + n));
    this.filled += n;
    if (this.filled < this.block.length) return true;
    this.send(this.block, this.filled);
    this.block = this.take();
    this.filled = 0;
    // Pausing while one block is still free keeps space() valid for a read the source already has under way.
    return this.free.length > 0;
  }

  room(): Promise<void> {
    return this.free.length > 0 || this.broken ? Promise.resolve() : new Promise((resolve) => (this.waiting = resolve));
  }

  /** Writes what is left in the last block and waits for every write; the number of bytes written. */
  async finish(): Promise<number> {
    if (this.filled > 0) this.send(this.block, this.filled);
    this.filled = 0;
    await this.writes;
    return this.queued;
  }

  /** Settles once no write is under way, whatever their outcome: before the target is touched again. */
  async idle(): Promise<void> {
    await this.writes.catch(() => undefined);
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  private take(): Buffer {
    const block = this.free.pop();
    // landed() says stop while one block is still free, so only a source that reads on regardless gets here.
    if (!block) throw new Error('BlockFiller: the source read on after being told to wait for room');
    return block;
  }

  private send(block: Buffer, length: number): void {
    const at = this.queued;
    this.queued += length;
    this.writes = this.writes.then(async () => {
      await this.write(block.subarray(0, length), at);
      this.durable = at + length;
      this.release(block);
    });
    this.writes.catch((e: unknown) => {
      this.broken = true;
      this.rejectFailed(e);
      // No block comes back after a failed write; wake a waiting source so it can see it was stopped.
      this.wake();
    });
  }

  private release(block: Buffer): void {
    this.free.push(block);
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
