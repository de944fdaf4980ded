import type { Logger } from './log';

/**
 * Logs failed requests once per cause, then at most once per window with the number of repeats,
 * instead of a line and a stack trace per request: an outage of the store made 47 MB of logs in
 * 15 s. The cause is the error's message with numbers and quoted names blanked out, so "cannot get
 * /registry/pods/a" and ".../b" count as one.
 */
export class ErrorLog {
  private readonly seen = new Map<string, { suppressed: number; lastLogged: number }>();

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 10_000,
    private readonly maxCauses = 1000,
  ) {}

  error(err: unknown, context: Record<string, unknown>, what: string): void {
    const message = err instanceof Error ? err.message : String(err);
    const cause = causeOf(message);
    const now = Date.now();
    const entry = this.seen.get(cause);
    if (entry && now - entry.lastLogged < this.windowMs) {
      entry.suppressed++;
      return;
    }
    const repeated = entry?.suppressed ?? 0;
    if (!entry && this.seen.size >= this.maxCauses) this.seen.clear(); // bounded memory
    this.seen.set(cause, { suppressed: 0, lastLogged: now });
    // The stack only the first time a cause is seen: later lines add nothing but volume.
    const stack = !entry && err instanceof Error ? { stack: err.stack } : {};
    this.log.error({ ...context, err: message, ...stack, ...(repeated ? { repeated, sinceMs: now - (entry?.lastLogged ?? now) } : {}) }, what);
  }
}

function causeOf(message: string): string {
  return message
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\/registry\/\S+/g, '/registry/…')
    .replace(/\d+/g, 'N')
    .slice(0, 300);
}
