import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';

/**
 * A session's health check, as client-go's (ReadIdleTimeout 30 s, PingTimeout 15 s): a session
 * that received nothing for `readIdleMs` is pinged, and given up when the answer takes longer than
 * `pingTimeoutMs`. A session that is receiving frames is not pinged at all, so a master that
 * stalls for a few seconds under load keeps its clients' connections.
 */
export interface Http2Health {
  readIdleMs: number;
  pingTimeoutMs: number;
}

const DEFAULT_HTTP2_HEALTH: Http2Health = { readIdleMs: 30_000, pingTimeoutMs: 15_000 };
/** Flow-control windows: a large list streams without waiting for a window update every 64 KiB. */
const STREAM_WINDOW_BYTES = 4 << 20;
const SESSION_WINDOW_BYTES = 32 << 20;

/**
 * Stream errors after which the request never reached the handler: the session was going away,
 * was already closed, or the server refused the stream. An idempotent request may be sent again.
 */
const NOT_PROCESSED = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_STREAM_CANCEL']);

export function notProcessed(err: NodeJS.ErrnoException): boolean {
  return NOT_PROCESSED.has(err.code ?? '') || /REFUSED_STREAM/.test(err.message);
}

/**
 * One HTTP/2 connection per master, shared by every request and watch of a client, as client-go
 * does: a node's watches of the objects its pods use cost the master streams, not connections.
 * A session that closes, receives GOAWAY, or stays silent and then leaves a ping unanswered
 * (Http2Health) is dropped, and the next request opens a new one. Sessions do not keep the
 * process alive while no stream is open.
 * A new session resumes the last TLS session to the same master (the ticket it sent): when a
 * master stalls or restarts, thousands of nodes reconnect at once, and a resumed handshake spares
 * the master its certificate signature (bench/http2-reconnect.ts: 32-45 % less of the master's
 * CPU per connection).
 */
export class Http2Sessions {
  /** Sessions opened, and how many of them resumed an earlier TLS session. */
  readonly opened = { sessions: 0, resumed: 0 };
  private readonly sessions = new Map<string, ClientHttp2Session>();
  /** The last TLS session ticket each master sent; kept in memory only. */
  private readonly tickets = new Map<string, Buffer>();
  private readonly active = new Map<ClientHttp2Session, number>();
  /** Why a session ended: its streams close without an error of their own when it cannot connect. */
  private readonly failures = new WeakMap<ClientHttp2Session, Error>();
  private readonly sessionOf = new WeakMap<ClientHttp2Stream, ClientHttp2Session>();

  private readonly health: Http2Health;

  constructor(private readonly ca: string | Buffer, health: Partial<Http2Health> = {}) {
    this.health = { ...DEFAULT_HTTP2_HEALTH, ...health };
  }

  /**
   * Opens a stream to `origin`; throws when the session cannot take one (the caller retries once).
   * `withBody` keeps the stream open for one (Node closes a DELETE's at once otherwise).
   */
  request(origin: string, headers: OutgoingHttpHeaders, withBody: boolean): ClientHttp2Stream {
    const session = this.session(origin);
    const stream = session.request(headers, { endStream: !withBody });
    this.sessionOf.set(stream, session);
    this.active.set(session, (this.active.get(session) ?? 0) + 1);
    session.ref();
    stream.once('close', () => {
      const left = (this.active.get(session) ?? 1) - 1;
      this.active.set(session, left);
      if (left === 0 && !session.destroyed) session.unref();
    });
    return stream;
  }

  /** Why the stream's session failed, if it did (connection refused, reset, ping unanswered). */
  failure(stream: ClientHttp2Stream): Error | undefined {
    const session = this.sessionOf.get(stream);
    return session ? this.failures.get(session) : undefined;
  }

  /** Drops the session to `origin` (the master could not be reached through it). */
  drop(origin: string): void {
    this.sessions.get(origin)?.destroy();
    this.sessions.delete(origin);
  }

  close(): void {
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }

  private session(origin: string): ClientHttp2Session {
    const existing = this.sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(origin, { ca: this.ca, session: this.tickets.get(origin), settings: { initialWindowSize: STREAM_WINDOW_BYTES } });
    this.opened.sessions++;
    // TLS 1.3 sends tickets after the handshake; a master restarted with new keys ignores an old one.
    session.socket.on('session', (ticket: Buffer) => this.tickets.set(origin, ticket));
    const forget = (): void => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    };
    // Errors reach the streams that were open; the session only has to be forgotten.
    session.on('error', (err: Error) => {
      this.failures.set(session, err);
      forget();
    });
    session.on('goaway', forget);
    session.on('close', () => {
      forget();
      clearInterval(checker);
      this.active.delete(session);
    });
    session.on('connect', () => {
      session.setLocalWindowSize(SESSION_WINDOW_BYTES);
      if ((session.socket as Partial<TLSSocket>).isSessionReused?.()) this.opened.resumed++;
    });
    const checker = healthCheck(session, this.health);
    session.unref();
    this.sessions.set(origin, session);
    return session;
  }
}

/**
 * Pings the session once it has read nothing for `readIdleMs` (the socket's byte count, which
 * every frame moves, stands for "a frame arrived"); a master that went away without closing the
 * connection (host down) leaves the ping unanswered and the session is destroyed. Checked three
 * times per idle period, so a silent session is pinged within 1⅓ × readIdleMs.
 */
function healthCheck(session: ClientHttp2Session, health: Http2Health): NodeJS.Timeout {
  let bytesRead = 0;
  let lastReadAt = Date.now();
  let pinging = false;
  const check = (): void => {
    if (session.destroyed || session.connecting || pinging) return;
    const now = Date.now();
    const read = session.socket?.bytesRead ?? 0;
    if (read !== bytesRead) {
      bytesRead = read;
      lastReadAt = now;
    }
    if (now - lastReadAt < health.readIdleMs) return;
    pinging = true;
    const silentS = ((now - lastReadAt) / 1000).toFixed(0);
    const timer = setTimeout(() => session.destroy(new Error(`the master sent nothing for ${silentS} s and did not answer a ping within ${health.pingTimeoutMs} ms`)), health.pingTimeoutMs);
    timer.unref();
    const sent = session.ping((err) => {
      clearTimeout(timer);
      pinging = false;
      if (err && !session.destroyed) session.destroy(err);
    });
    if (!sent) {
      clearTimeout(timer);
      pinging = false;
    }
  };
  const checker = setInterval(check, Math.max(1, Math.round(health.readIdleMs / 3)));
  checker.unref();
  return checker;
}
