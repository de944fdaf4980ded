import type { IncomingMessage } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { ServerOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { createApiHttpServer } from './api-http-server';
import type { Logger } from './log';

/** How often an address that is not on this machine yet is tried again. */
const RETRY_MS = 1000;

export interface ExtraListener {
  close(): Promise<void>;
}

/**
 * Serves the main server's requests on one more HOST:PORT with the same TLS settings. The address
 * may not exist yet (a local cluster's pods reach the master at the container bridge's gateway,
 * and the engine makes that bridge with the first container): binding is then retried until it
 * works or the master stops, so the master never waits for it.
 */
export function listenAlso(main: Http2SecureServer, tls: ServerOptions, host: string, port: number, log: Logger): ExtraListener {
  const { server, closeAllConnections } = createApiHttpServer(tls, (req, res) => main.emit('request', req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => main.emit('upgrade', req, socket, head));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let waitingLogged = false;
  const attempt = (): void => {
    if (stopped) return;
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (stopped) return;
      if (err.code !== 'EADDRNOTAVAIL') return void log.error({ err: err.message, address: `${host}:${port}` }, 'cannot serve on the extra address');
      if (!waitingLogged) log.info({ address: `${host}:${port}` }, 'the extra address is not on this machine yet: serving there once it is');
      waitingLogged = true;
      timer = setTimeout(attempt, RETRY_MS);
    });
    server.listen(port, host, () => log.info({ address: `${host}:${port}` }, 'serving on the extra address too'));
  };
  attempt();
  return {
    close: async () => {
      stopped = true;
      clearTimeout(timer);
      if (!server.listening) return;
      closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
