import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { ServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { isWatchRequest, watchExchange } from './watch-exchange';

/**
 * How long an idle HTTP/1.1 client connection stays open. Node's default (5 s) is shorter than a
 * node's Lease period (10 s), so every renewal paid a new TLS handshake, and a request sent on a
 * connection the master was closing at that moment failed with ECONNRESET.
 */
export const API_KEEP_ALIVE_MS = 65_000;

/**
 * Streams one HTTP/2 client may have open at once (kube-apiserver's
 * --http2-max-streams-per-connection default): a node's watches of the ConfigMaps and Secrets its
 * pods use are streams of its one connection.
 */
export const API_MAX_STREAMS = 1000;

/** The request and response the API handlers see; HTTP/2 ones through Node's compatibility API. */
export type ApiRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ApiHttpServer {
  server: http2.Http2SecureServer;
  /** Destroys every open connection (HTTP/1.1 and HTTP/2 alike), so close() need not wait for them. */
  closeAllConnections(): void;
}

/**
 * The TLS server of the API: HTTP/2 for clients that offer it in ALPN (kubectl, client-go and the
 * agents: one connection per client however many watches it holds), HTTP/1.1 for the rest
 * (the Python and JavaScript clients, browsers without h2, and every connection upgrade: exec,
 * attach and port-forward over SPDY or WebSocket stay on HTTP/1.1, as kube-apiserver does).
 * Over HTTP/1.1 each watch held a connection of its own, and Node accepts one connection per turn
 * of a busy event loop: a thousand nodes opening their watches at once waited minutes in the
 * listen queue.
 */
export function createApiHttpServer(tls: ServerOptions, onRequest: ApiRequestHandler): ApiHttpServer {
  const server = http2.createSecureServer({ ...tls, allowHTTP1: true, settings: { maxConcurrentStreams: API_MAX_STREAMS } });
  // Read by Node's HTTP/1.1 connection handling, which the HTTP/2 server lends its connections to.
  (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = API_KEEP_ALIVE_MS;
  // The compatibility API hands HTTP/2 requests over with IncomingMessage's and ServerResponse's
  // surface (headers, status, write/end, close events, the TLS socket for client certificates).
  // HTTP/1.1 connections arrive here too.
  server.on('request', (req, res) => onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse));
  // Listening to 'request' made Node's compatibility layer listen to 'stream', to wrap every
  // HTTP/2 stream in its request and response. Watches are served on the stream itself
  // (watch-exchange.ts: they are most of the master's open streams); the rest still go through it.
  const compat = server.listeners('stream');
  if (compat.length !== 1) throw new Error(`cannot route HTTP/2 watches past Node ${process.version}'s compatibility layer: expected one 'stream' listener after 'request', found ${compat.length}`);
  server.removeAllListeners('stream');
  const wrap = compat[0] as (...args: unknown[]) => void;
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[] | undefined) => {
    if (!isWatchRequest(headers)) return wrap(stream, headers, flags, rawHeaders);
    const { req, res } = watchExchange(stream, headers);
    onRequest(req, res);
  });
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    server,
    closeAllConnections: () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
  };
}
