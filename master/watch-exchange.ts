import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';

/** kube-apiserver's ParseBool for `watch=`: what makes a GET a watch. */
const WATCH_QUERY = /[?&]watch=(1|t|T|true|TRUE|True)(&|$)/;
/** The deprecated watch paths: /api/v1/watch/..., /apis/GROUP/VERSION/watch/... */
const WATCH_PATH = /^\/(api\/v1|apis\/[^/?]+\/[^/?]+)\/watch\//;
/** Headers HTTP/2 forbids (RFC 9113 8.2.2); Node's stream API throws on them. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** True for an HTTP/2 request that opens a watch (its answer streams for minutes). */
export function isWatchRequest(headers: IncomingHttpHeaders): boolean {
  if (headers[':method'] !== 'GET') return false;
  const path = String(headers[':path'] ?? '');
  return WATCH_QUERY.test(path) || WATCH_PATH.test(path);
}

/**
 * A watch served on Node's core HTTP/2 stream, with the part of IncomingMessage's and
 * ServerResponse's surface the API server's request path and the watch read and write.
 *
 * Why: the master holds one open watch per (node, ConfigMap or Secret its pods use), ~115,000 at
 * 5,000 nodes and 150,000 pods. Through Node's compatibility API each of them also held an
 * Http2ServerRequest (a Readable) and an Http2ServerResponse with their states and ten listeners
 * on the stream: 2.2 KB of heap and 2-3.5 KB of RSS a watch more than here, where a watch is the
 * stream and two small objects (bench/watch-memory.ts, 10,000 watches, on Node 20 and 24).
 * Every other request keeps the compatibility API: bodies, uploads and the rest of its surface.
 */
export function watchExchange(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): { req: IncomingMessage; res: ServerResponse } {
  // An error on the stream (a client's reset) ends it; the response's close says so to the watch.
  stream.on('error', ignoreError);
  // A GET has no body: read its end, so the stream closes once the answer has ended.
  stream.resume();
  const req = new WatchRequest(stream, headers);
  const res = new WatchResponse(stream);
  // The API server's request path is typed for Node's request and response; these two have the
  // part of them it uses on a watch (test/master/watch-exchange.test.ts runs that path through them).
  return { req: req as unknown as IncomingMessage, res: res as unknown as ServerResponse };
}

function ignoreError(): void {}

class WatchRequest {
  readonly method: string;
  readonly url: string;

  constructor(
    private readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
  ) {
    this.method = String(headers[':method']);
    this.url = String(headers[':path']);
  }

  /** Name, value, name, value...: read by impersonation, which needs every value of a repeated header. */
  get rawHeaders(): string[] {
    return flatHeaders(this.headers);
  }

  /** The connection's TLS socket: its client certificate signs the user in. */
  get socket(): TLSSocket | undefined {
    return this.stream.session?.socket as TLSSocket | undefined;
  }

  get aborted(): boolean {
    return this.stream.aborted;
  }
}

class WatchResponse {
  statusCode = 200;

  constructor(readonly stream: ServerHttp2Stream) {}

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  get writableEnded(): boolean {
    return this.stream.writableEnded;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  get socket(): TLSSocket | undefined {
    return this.stream.session?.socket as TLSSocket | undefined;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders = {}): this {
    if (this.stream.headersSent) throw new Error(`a watch answered twice: ${status} after ${this.statusCode}`);
    this.statusCode = status;
    if (this.stream.destroyed || this.stream.closed) return this;
    const out: OutgoingHttpHeaders = { ':status': status };
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (value !== undefined && !CONNECTION_HEADERS.has(lower)) out[lower] = value;
    }
    this.stream.respond(out);
    return this;
  }

  flushHeaders(): void {
    if (!this.stream.headersSent) this.writeHead(this.statusCode);
  }

  write(chunk: string | Uint8Array): boolean {
    this.flushHeaders();
    if (this.stream.destroyed) return false;
    return this.stream.write(chunk);
  }

  end(chunk?: string | Uint8Array): this {
    this.flushHeaders();
    if (this.stream.destroyed || this.stream.writableEnded) return this;
    if (chunk === undefined) this.stream.end();
    else this.stream.end(chunk);
    return this;
  }

  /** The stream's events: 'close' when the client left or the answer ended. */
  on(event: string, listener: (...args: unknown[]) => void): this {
    this.stream.on(event, listener);
    return this;
  }
}

function flatHeaders(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push(name, v);
  }
  return out;
}
