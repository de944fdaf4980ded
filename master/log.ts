import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stderr; LOTSE_LOG_LEVEL=debug adds one line per request. */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.LOTSE_LOG_LEVEL ?? 'info', redact: ['token', 'authorization', '*.token', '*.authorization'] }, pino.destination(2));
}
