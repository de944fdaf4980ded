import https from 'node:https';
import type { ClientRequest } from 'node:http';
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { Http2Sessions, notProcessed, type Http2Health } from './http2-sessions';
import { URL } from 'node:url';
import { ApiError } from './api-error';
import type { KubeList, KubeObject, WatchEvent } from './object';
import { resourcePath, type ResourceRef } from './resource-path';

export interface ClientOptions {
  /**
   * https://host:port of the master, or of several masters comma-separated: requests go to one
   * and move to the next when it cannot be reached (connection refused, reset or timed out).
   */
  server: string;
  /** PEM of the CA that signed the master's serving certificate. */
  ca: string | Buffer;
  token: string;
  /**
   * Called when the master answers 401 (the credential expired or was revoked), so its owner can
   * obtain a new one and hand it over with setToken.
   */
  onUnauthorized?: () => void;
  /** Per-request timeout for non-watch calls, in ms (default 30 s). */
  timeoutMs?: number;
  /**
   * Speak HTTP/2: every request and watch of this client shares one connection per master, as
   * client-go's do (default false: HTTP/1.1, a kept-alive connection per request in flight and
   * one per watch). Agents use it: a node watches each ConfigMap and Secret its pods use.
   */
  http2?: boolean;
  /** Over HTTP/2, when a silent session is pinged and given up (default client-go's: 30 s idle, 15 s for the answer). */
  http2Health?: Partial<Http2Health>;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchQuery extends ListQuery {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

/** Per-call choices. */
export interface CallOptions {
  /**
   * Send a request refused with 429 again after its Retry-After, up to 5 times (default true, as
   * client-go). A caller with a back-off of its own (the status manager, a pod's volume set-up)
   * turns it off: each resend of a refused write is one more request for an overloaded master,
   * and 5,000 nodes resending at the same Retry-After come back together.
   */
  resendRefused?: boolean;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface WatchHandle {
  stop(): void;
  /** Resolves when the stream ends (server closed it, error, or stop()). */
  done: Promise<void>;
}

/**
 * A small Kubernetes REST client over HTTPS with a bearer token. The agent, the controllers and
 * the CLI use it; it carries no Kubernetes-specific logic beyond paths and Status errors.
 */
export class KubeClient {
  private readonly agent: https.Agent;
  private readonly sessions?: Http2Sessions;
  private readonly bases: URL[];
  /** Index into bases of the master requests go to now. */
  private current = 0;
  private token: string;

  constructor(private readonly options: ClientOptions) {
    this.bases = parseServers(options.server);
    this.token = options.token;
    // No cap on sockets: a watch holds its connection for minutes (HTTP/1.1 cannot multiplex them
    // as the kubelet's HTTP/2 does), and an agent watching each ConfigMap and Secret its pods use
    // must not take every socket its requests (lease renewals) need.
    this.agent = new https.Agent({ ca: options.ca, keepAlive: true });
    if (options.http2) this.sessions = new Http2Sessions(options.ca, options.http2Health);
  }

  get<T extends KubeObject = KubeObject>(ref: ResourceRef): Promise<T> {
    return this.json<T>('GET', resourcePath(ref));
  }

  list<T extends KubeObject = KubeObject>(ref: ResourceRef, query: ListQuery = {}): Promise<KubeList<T>> {
    return this.json<KubeList<T>>('GET', resourcePath(ref) + queryString(query));
  }

  create<T extends KubeObject = KubeObject>(ref: ResourceRef, body: KubeObject, call: CallOptions = {}): Promise<T> {
    return this.json<T>('POST', resourcePath(ref), body, 'application/json', call);
  }

  update<T extends KubeObject = KubeObject>(ref: ResourceRef, body: KubeObject): Promise<T> {
    return this.json<T>('PUT', resourcePath(ref), body);
  }

  patch<T extends KubeObject = KubeObject>(ref: ResourceRef, type: PatchType, body: unknown, query = '', call: CallOptions = {}): Promise<T> {
    return this.json<T>('PATCH', resourcePath(ref) + query, body, patchContentType[type], call);
  }

  delete<T extends KubeObject = KubeObject>(ref: ResourceRef, options: Record<string, unknown> = {}): Promise<T> {
    return this.json<T>('DELETE', resourcePath(ref), { kind: 'DeleteOptions', apiVersion: 'v1', ...options });
  }

  /** Raw request for paths outside the resource layout (/healthz, /version, pod logs). */
  async raw(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: string }> {
    const res = await this.send(method, path, body, contentType);
    return { status: res.status, body: res.body };
  }

  /**
   * Streams watch events for ref until stopped. The caller re-lists on a 410 (ApiError code 410
   * passed to onError) and re-watches from its last resourceVersion otherwise.
   */
  watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    query: WatchQuery,
    onEvent: (event: WatchEvent<T>) => void,
    onError: (err: Error) => void = () => undefined,
  ): WatchHandle {
    const params: Record<string, string> = { watch: '1' };
    if (query.allowWatchBookmarks !== false) params.allowWatchBookmarks = 'true';
    if (query.timeoutSeconds) params.timeoutSeconds = String(query.timeoutSeconds);
    const path = resourcePath(ref) + queryString({ ...query }, params);
    if (this.sessions) return this.watchHttp2(this.sessions, path, onEvent, onError);
    let req: ReturnType<typeof https.request> | undefined;
    let stopped = false;
    const index = this.current;
    const done = new Promise<void>((resolve) => {
      req = https.request(this.requestOptions('GET', path), (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          if (res.statusCode === 401) this.options.onUnauthorized?.();
          collect(res).then((text) => {
            onError(toApiError(res.statusCode ?? 0, text));
            resolve();
          }, () => resolve());
          return;
        }
        readWatchLines(res, onEvent, onError);
        res.on('end', () => resolve());
        res.on('error', (err) => {
          if (!stopped) onError(err);
          resolve();
        });
      });
      req.on('error', (err) => {
        if (!stopped) {
          this.failover(index);
          onError(err);
        }
        resolve();
      });
      req.end();
    });
    return {
      stop: () => {
        stopped = true;
        req?.destroy();
      },
      done,
    };
  }

  close(): void {
    this.agent.destroy();
    this.sessions?.close();
  }

  /** HTTP/2 sessions this client opened, and how many resumed a TLS session; undefined over HTTP/1.1. */
  get http2Sessions(): Readonly<{ sessions: number; resumed: number }> | undefined {
    return this.sessions?.opened;
  }

  /** Switches to a new credential (a renewed node credential); requests in flight keep the old one. */
  setToken(token: string): void {
    this.token = token;
  }

  /**
   * A request the master refused with 429 and a Retry-After (too many in flight, an index catching
   * up: nothing was done) is sent again after that many seconds, up to 5 times, as client-go does;
   * so is a read answered 5xx with a Retry-After (a store past its deadline). A write answered 5xx
   * may have been carried out, and is left to the caller.
   */
  private async json<T>(method: string, path: string, body?: unknown, contentType = 'application/json', call: CallOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.send(method, path, body, contentType);
      if (res.status < 300) return JSON.parse(res.body) as T;
      const again = (res.status === 429 && call.resendRefused !== false) || (method === 'GET' && res.status >= 500);
      const waitS = again && attempt <= MAX_RETRY_AFTER ? res.retryAfterS : undefined;
      if (waitS === undefined) throw toApiError(res.status, res.body);
      await new Promise((r) => setTimeout(r, waitS * 1000));
    }
  }

  /** The master at `index` could not be reached: the next request goes to the next one. */
  private failover(index: number): void {
    if (this.bases.length > 1 && this.current === index) this.current = (index + 1) % this.bases.length;
  }

  private requestOptions(method: string, path: string, headers: Record<string, string> = {}): https.RequestOptions {
    const base = this.bases[this.current];
    return {
      method,
      host: base.hostname,
      port: base.port || 443,
      path,
      agent: this.agent,
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...headers },
    };
  }

  private send(method: string, path: string, body: unknown, contentType: string, retried = false): Promise<Answer> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    // An explicit length: Node sends DELETE bodies neither chunked nor sized otherwise.
    const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': contentType, 'content-length': String(Buffer.byteLength(payload)) };
    if (this.sessions) return this.sendHttp2(this.sessions, method, path, headers, payload, retried);
    const index = this.current;
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = https.request(this.requestOptions(method, path, headers), (res) => {
        answered = true;
        if (res.statusCode === 401) this.options.onUnauthorized?.();
        collect(res).then((text) => resolve({ status: res.statusCode ?? 0, body: text, retryAfterS: retryAfterSeconds(res.headers['retry-after']) }), reject);
      });
      req.setTimeout(this.options.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path}: no answer within ${this.options.timeoutMs ?? 30_000} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!retried && !answered && closedWhileIdle(req, method, err)) return void this.send(method, path, payload, contentType, true).then(resolve, reject);
        this.failover(index);
        reject(new Error(`${method} ${this.bases[index].origin}${path}: ${err.message}`));
      });
      req.end(payload);
    });
  }
  /** Opens an HTTP/2 stream to the current master; a session that cannot take one is replaced once. */
  private openStream(sessions: Http2Sessions, method: string, path: string, headers: Record<string, string>, withBody = false): ClientHttp2Stream {
    const origin = this.bases[this.current].origin;
    const all = { ':method': method, ':path': path, authorization: `Bearer ${this.token}`, accept: 'application/json', ...headers };
    try {
      return sessions.request(origin, all, withBody);
    } catch {
      sessions.drop(origin);
      return sessions.request(origin, all, withBody);
    }
  }

  private sendHttp2(sessions: Http2Sessions, method: string, path: string, headers: Record<string, string>, payload: string | undefined, retried: boolean): Promise<Answer> {
    const index = this.current;
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      let status = 0;
      let settled = false;
      const fail = (err: NodeJS.ErrnoException): void => {
        if (settled) return;
        settled = true;
        if (!retried && status === 0 && idempotent.has(method) && notProcessed(err)) return void this.sendHttp2(sessions, method, path, headers, payload, true).then(resolve, reject);
        if (status === 0) this.failover(index);
        reject(new Error(`${method} ${this.bases[index].origin}${path}: ${err.message}`));
      };
      let stream: ClientHttp2Stream;
      try {
        stream = this.openStream(sessions, method, path, headers, payload !== undefined);
      } catch (err) {
        return fail(err as NodeJS.ErrnoException);
      }
      stream.setTimeout(timeoutMs, () => {
        stream.close();
        fail(new Error(`no answer within ${timeoutMs} ms`));
      });
      let retryAfterS: number | undefined;
      stream.on('response', (h: IncomingHttpHeaders) => {
        status = Number(h[':status']);
        retryAfterS = retryAfterSeconds(h['retry-after']);
        if (status === 401) this.options.onUnauthorized?.();
      });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', fail);
      stream.on('close', () => {
        if (settled) return;
        // Closed without an answer: the connection failed (refused, reset) or the stream was reset.
        if (status === 0) return fail(sessions.failure(stream) ?? new Error(`the stream closed before an answer (HTTP/2 code ${stream.rstCode})`));
        settled = true;
        resolve({ status, body: Buffer.concat(chunks).toString('utf8'), retryAfterS });
      });
      if (payload === undefined) return;
      stream.end(payload);
    });
  }

  private watchHttp2<T extends KubeObject>(sessions: Http2Sessions, path: string, onEvent: (event: WatchEvent<T>) => void, onError: (err: Error) => void): WatchHandle {
    const index = this.current;
    let stopped = false;
    let stream: ClientHttp2Stream | undefined;
    const done = new Promise<void>((resolve) => {
      let failedOnce = false;
      const failed = (err: Error): void => {
        if (failedOnce) return;
        failedOnce = true;
        if (!stopped) {
          this.failover(index);
          onError(err);
        }
        resolve();
      };
      try {
        stream = this.openStream(sessions, 'GET', path, {});
      } catch (err) {
        return failed(err as Error);
      }
      const s = stream;
      let answered = false;
      s.on('response', (h: IncomingHttpHeaders) => {
        answered = true;
        const status = Number(h[':status']);
        if (status < 300) return void readWatchLines(s, onEvent, onError);
        if (status === 401) this.options.onUnauthorized?.();
        collect(s).then((text) => onError(toApiError(status, text)), () => undefined);
      });
      s.on('error', (err) => (answered ? !stopped && onError(err) : failed(err)));
      s.on('close', () => {
        if (!answered) return failed(sessions.failure(s) ?? new Error(`the watch closed before an answer (HTTP/2 code ${s.rstCode})`));
        resolve();
      });
    });
    return {
      stop: () => {
        stopped = true;
        stream?.close();
      },
      done,
    };
  }
}

/** A master's answer; retryAfterS is its Retry-After header in seconds, when it sent a usable one. */
interface Answer {
  status: number;
  body: string;
  retryAfterS?: number;
}

/** How many times a request answered with a Retry-After is sent again. */
const MAX_RETRY_AFTER = 5;

/** Retry-After in delta-seconds (what the apiserver sends), bounded to a minute; undefined otherwise. */
function retryAfterSeconds(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^\d+$/.test(value.trim())) return undefined;
  return Math.min(60, Number(value.trim()));
}

/** Methods a client may send twice (Go's net/http retries these the same way). */
const idempotent = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/**
 * The master closed a kept-alive connection as this request went out on it: nothing was
 * answered, and an idempotent request is sent again once on a new connection.
 */
function closedWhileIdle(req: ClientRequest, method: string, err: NodeJS.ErrnoException): boolean {
  return req.reusedSocket && idempotent.has(method) && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up');
}

/** Hands each line of a watch response to onEvent, or to onError for an ERROR event. */
function readWatchLines<T extends KubeObject>(res: NodeJS.ReadableStream, onEvent: (event: WatchEvent<T>) => void, onError: (err: Error) => void): void {
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      const event = JSON.parse(line) as WatchEvent<T>;
      if (event.type === 'ERROR') {
        const st = event.object as Record<string, unknown>;
        onError(new ApiError(Number(st.code ?? 500), String(st.reason ?? ''), String(st.message ?? 'watch error'), st));
        continue;
      }
      onEvent(event);
    }
  });
}

function collect(res: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function toApiError(status: number, text: string): ApiError {
  try {
    const st = JSON.parse(text) as Record<string, unknown>;
    return new ApiError(status, String(st.reason ?? ''), String(st.message ?? text), st);
  } catch {
    return new ApiError(status, '', text.slice(0, 500) || `HTTP ${status}`);
  }
}

function queryString(query: ListQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams(extra);
  if (query.labelSelector) params.set('labelSelector', query.labelSelector);
  if (query.fieldSelector) params.set('fieldSelector', query.fieldSelector);
  if (query.limit) params.set('limit', String(query.limit));
  if (query.continue) params.set('continue', query.continue);
  if (query.resourceVersion) params.set('resourceVersion', query.resourceVersion);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** The masters in a `server` option: one URL or several comma-separated. */
export function parseServers(server: string): URL[] {
  const urls = server.split(',').map((s) => s.trim()).filter(Boolean);
  if (urls.length === 0) throw new Error('no master given: the server is https://HOST:PORT, or several comma-separated');
  return urls.map((u) => {
    try {
      return new URL(u);
    } catch {
      throw new Error(`"${u}" is not a master URL: write https://HOST:PORT`);
    }
  });
}
