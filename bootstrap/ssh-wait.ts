import { HostKeyError } from './host-keys';
import type { InventoryHost } from './inventory';
import { SshConnection, SshError, type SshOptions } from './ssh-connection';

/** Typhoon waits this long for new machines; FCOS often needs a minute or more before sshd answers. */
export const DEFAULT_SSH_WAIT_MS = 15 * 60_000;
const DEFAULT_RETRY_MS = 5000;

export interface SshWaitOptions extends SshOptions {
  /** Give up after this long (default 15 minutes). */
  waitMs?: number;
  /** Pause between attempts (default 5 s). */
  retryMs?: number;
  /** Told before every retry: why the last attempt failed and how long the wait has lasted. */
  onWaiting: (reason: string, elapsedMs: number, attempt: number) => void | Promise<void>;
}

/**
 * Failures that a machine still booting produces: nothing listens yet, the address is not routed
 * yet, or sshd accepts and then takes too long. A refused key or a changed host key is an answer,
 * not a delay, and fails at once.
 */
function stillBooting(err: Error): boolean {
  if (err instanceof HostKeyError) return false;
  return /connection refused|no route to host|connection timed out|no SSH handshake|connection reset|closed the connection|ECONNRESET|EPIPE/i.test(err.message);
}

/** Connects to a host that may still be booting: retries at a fixed pace until it answers or time is up. */
export async function connectWhenUp(host: InventoryHost, options: SshWaitOptions): Promise<SshConnection> {
  const waitMs = options.waitMs ?? DEFAULT_SSH_WAIT_MS;
  const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await SshConnection.connect(host, options);
    } catch (err) {
      const error = err as Error;
      const elapsed = Date.now() - started;
      if (!stillBooting(error)) throw error;
      if (elapsed + retryMs > waitMs) {
        throw new SshError(
          `${host.name} did not answer SSH within ${Math.round(waitMs / 1000)} s (${attempt} attempt${attempt === 1 ? '' : 's'}); last: ${error.message}. ` +
            `If the machine is still booting, run again with a longer --ssh-timeout SECONDS; otherwise check that it is running and reachable at ${host.address}:${host.port}`,
          host.name,
        );
      }
      await options.onWaiting(error.message, elapsed, attempt);
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
