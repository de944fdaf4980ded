import { close, fdatasync, fsync, open } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

/**
 * Makes SQLite's committed WAL frames durable from libuv's thread pool instead of inside COMMIT.
 *
 * With `synchronous = FULL` SQLite fdatasyncs the WAL in every COMMIT, on the thread that commits:
 * the master's event loop, so each group commit held every request, Lease and watch for one disk
 * flush (a fraction of a millisecond on a VM's virtio disk, milliseconds on an SSD, tens on a Pi's
 * SD card). The store instead commits with `synchronous = NORMAL` (the WAL is written, not
 * flushed) and asks this for a flush of the WAL file after the commit; a write is acknowledged, and
 * its event published, only once a flush that began after its commit has finished. That is the
 * guarantee FULL gives (the committed frames are on disk before anyone is told), with the loop free
 * while the disk works. Commits that arrive during a flush share the next one.
 *
 * A flush that fails (EIO, a full or vanished disk) fails every commit waiting for it and every one
 * after: once fsync has failed, what reached the disk is unknown (the kernel may already have
 * dropped the dirty pages), so the store must stop promising anything until it is reopened.
 */
export class WalSync {
  private fd: Promise<number> | undefined;
  /** The flush running now, and the one queued behind it for commits made meanwhile. */
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(private readonly walPath: string) {}

  /** Resolves once a flush of the WAL that began after this call has finished. */
  afterCommit(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.running) {
      this.running = this.flushThenNext();
      return this.running;
    }
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  /** Waits for the flushes under way, then lets the WAL file go. */
  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.queued]);
    const fd = this.fd;
    this.fd = undefined;
    if (fd) await fd.then(closeAsync, () => undefined);
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    if (this.failure) return Promise.reject(this.failure);
    this.running = this.flushThenNext();
    return this.running;
  }

  private async flushThenNext(): Promise<void> {
    try {
      await fdatasyncAsync(await this.walFd());
    } catch (err) {
      this.failure ??= new Error(`cannot flush the SQLite WAL ${this.walPath} to disk: ${String(err)}; writes since the last flush may be lost, so the store accepts no more (check the disk, then restart the master)`);
      throw this.failure;
    } finally {
      if (!this.queued) this.running = undefined;
    }
  }

  /**
   * The WAL's descriptor, opened at the first flush (SQLite has created the file by the first
   * commit). Its directory is flushed once too, so that the file's name survives a power loss
   * along with its content, as SQLite does when it syncs a journal it has just created.
   */
  private walFd(): Promise<number> {
    this.fd ??= (async () => {
      const fd = await openAsync(this.walPath, 'r+');
      const dir = await openAsync(dirname(this.walPath), 'r');
      try {
        await fsyncAsync(dir);
      } finally {
        await closeAsync(dir);
      }
      return fd;
    })();
    return this.fd;
  }
}
