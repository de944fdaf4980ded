import type { StandinLog } from './standin-log';

/** Waits `ms`, or less when `signal` aborts meanwhile (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Calls `step` until it succeeds or `signal` aborts (then undefined), once a second, logging each new failure. */
export async function retrying<T>(what: string, step: () => Promise<T>, signal: AbortSignal, log: StandinLog): Promise<T | undefined> {
  let said = '';
  while (!signal.aborted) {
    try {
      return await step();
    } catch (err) {
      const message = (err as Error).message;
      if (message !== said) log(`${what} failed, retrying every second: ${message}`);
      said = message;
      await sleep(1000, signal);
    }
  }
  return undefined;
}
