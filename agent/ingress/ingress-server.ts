import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Pool } from 'undici';
import type { Backend } from '../proxy/service-table';
import type { IngressRoutes, RouteTarget } from './ingress-routes';

/** A certificate and key (PEM) for the hosts it names; `*.example.com` covers one label. */
export interface ServedCertificate {
  hosts: string[];
  certPem: string;
  keyPem: string;
}

export interface IngressServerOptions {
  /** Address to listen on ('' or '0.0.0.0': every address). */
  address: string;
  /** 0: no HTTP listener. */
  httpPort: number;
  /** 0: no HTTPS listener. */
  httpsPort: number;
  /** Served to clients whose SNI names no host with a certificate (and to clients without SNI). */
  fallbackCertificate: { certPem: string; keyPem: string };
  log: (msg: string) => void;
}

export interface RunningIngressServer {
  /** The ports bound; undefined for a listener that is disabled. */
  readonly httpPort: number | undefined;
  readonly httpsPort: number | undefined;
  setRoutes(routes: IngressRoutes): void;
  setCertificates(certs: ServedCertificate[]): void;
  stop(): Promise<void>;
}

const notFound = 'default backend - 404\n';

/**
 * The agent's ingress data path: HTTP and HTTPS listeners that route each request by host and
 * path (IngressRoutes) straight to a ready endpoint of the Service, round-robin, over a pool of
 * keep-alive connections per endpoint (undici: measured 1.9x the requests/s of http-proxy-3 here,
 * see docs/ingress.md); WebSocket upgrades are tunnelled as bytes and streamed bodies pass through.
 * TLS is terminated with the certificate the SNI name selects.
 */
export async function startIngressServer(o: IngressServerOptions): Promise<RunningIngressServer> {
  let routes: IngressRoutes | undefined;
  let contexts = new Map<string, tls.SecureContext>();
  const fallback = tls.createSecureContext({ cert: o.fallbackCertificate.certPem, key: o.fallbackCertificate.keyPem });
  const pools = new BackendPools();
  const next = roundRobin();

  const pick = (host: string | undefined, url: string | undefined): { target: RouteTarget; backend: Backend } | { status: number; body: string } => {
    const target = routes?.match(host, url ?? '/');
    if (!target) return { status: 404, body: notFound };
    const backend = next(target);
    if (!backend) return { status: 503, body: `no ready endpoints for ${target.id}\n` };
    return { target, backend };
  };

  const onRequest = (secure: boolean) => (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chosen = pick(req.headers.host, req.url);
    if ('status' in chosen) {
      res.writeHead(chosen.status, { 'content-type': 'text/plain' });
      res.end(chosen.body);
      return;
    }
    forward(pools.of(chosen.backend), req, res, secure);
  };

  const onUpgrade = (secure: boolean) => (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const chosen = pick(req.headers.host, req.url);
    if ('status' in chosen) {
      socket.end(`HTTP/1.1 ${chosen.status} ${http.STATUS_CODES[chosen.status]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(chosen.body)}\r\nconnection: close\r\n\r\n${chosen.body}`);
      return;
    }
    tunnel(chosen.backend, req, socket, head, secure);
  };

  const servers: http.Server[] = [];
  let httpPort: number | undefined;
  let httpsPort: number | undefined;
  if (o.httpPort > 0) {
    const server = http.createServer({ keepAliveTimeout: 65_000 }, onRequest(false));
    server.on('upgrade', onUpgrade(false));
    httpPort = await listen(server, o.address, o.httpPort);
    servers.push(server);
  }
  if (o.httpsPort > 0) {
    const server = https.createServer({
      SNICallback: (servername, cb) => cb(null, contextFor(contexts, servername) ?? fallback),
      cert: o.fallbackCertificate.certPem,
      key: o.fallbackCertificate.keyPem,
      keepAliveTimeout: 65_000,
    }, onRequest(true));
    server.on('upgrade', onUpgrade(true));
    try {
      httpsPort = await listen(server, o.address, o.httpsPort);
    } catch (err) {
      for (const s of servers) s.close();
      throw err;
    }
    servers.push(server);
  }
  o.log(`ingress serving on ${[httpPort && `http ${o.address || '0.0.0.0'}:${httpPort}`, httpsPort && `https ${o.address || '0.0.0.0'}:${httpsPort}`].filter(Boolean).join(', ')}`);

  return {
    httpPort,
    httpsPort,
    setRoutes: (r) => {
      routes = r;
      pools.keepOnly(r.backends());
    },
    setCertificates: (certs) => {
      const next = new Map<string, tls.SecureContext>();
      for (const c of certs) {
        try {
          const ctx = tls.createSecureContext({ cert: c.certPem, key: c.keyPem });
          for (const h of c.hosts) if (!next.has(h)) next.set(h, ctx);
        } catch (err) {
          o.log(`ingress: certificate for ${c.hosts.join(', ')} not usable: ${(err as Error).message}`);
        }
      }
      contexts = next;
    },
    stop: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })));
      await pools.close();
    },
  };
}

function contextFor(contexts: Map<string, tls.SecureContext>, servername: string): tls.SecureContext | undefined {
  const name = servername.toLowerCase();
  const dot = name.indexOf('.');
  return contexts.get(name) ?? (dot > 0 ? contexts.get(`*${name.slice(dot)}`) : undefined);
}

/** Round-robin over a target's backends; the counter lives per target id. */
function roundRobin(): (t: RouteTarget) => Backend | undefined {
  const counters = new Map<string, number>();
  return (t) => {
    if (t.backends.length === 0) return undefined;
    const n = counters.get(t.id) ?? 0;
    counters.set(t.id, (n + 1) % 1_000_000);
    return t.backends[n % t.backends.length];
  };
}

function listen(server: http.Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address || undefined, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

/** Headers that describe one hop and are not forwarded (RFC 9110 7.6.1); Expect is answered by Node itself. */
const hopByHop = new Set(['connection', 'keep-alive', 'expect', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The request's headers for the backend: hop-by-hop ones dropped, X-Forwarded-* added, Host kept. */
function forwardedHeaders(req: http.IncomingMessage, secure: boolean, keepUpgrade = false): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = new Set((req.headers.connection ?? '').toLowerCase().split(',').map((h) => h.trim()));
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (!keepUpgrade && (hopByHop.has(k) || named.has(k))) continue;
    out[k] = v;
  }
  const client = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
  out['x-forwarded-proto'] = secure ? 'https' : 'http';
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-port'] = String(req.socket.localPort ?? '');
  out['x-real-ip'] = client;
  return out;
}

/** One request to the backend, its response streamed back as it comes. */
function forward(pool: Pool, req: http.IncomingMessage, res: http.ServerResponse, secure: boolean): void {
  const bodyless = req.method === 'GET' || req.method === 'HEAD' || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined);
  pool.stream(
    { path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: forwardedHeaders(req, secure), body: bodyless ? null : req, signal: undefined },
    ({ statusCode, headers }) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(headers)) if (v !== undefined && !hopByHop.has(k)) out[k] = v;
      res.writeHead(statusCode, out);
      res.flushHeaders();
      return res;
    },
    (err) => {
      if (!err) return;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`ingress: backend unreachable: ${err.message}\n`);
      } else {
        res.destroy(err);
      }
    },
  );
  // A client that goes away takes the backend request with it.
  res.on('close', () => {
    if (!res.writableFinished) req.destroy();
  });
}

/** An upgrade (WebSocket): the request head is replayed to the backend, then bytes flow both ways untouched. */
function tunnel(backend: Backend, req: http.IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
  const upstream = net.connect(backend.port, backend.ip);
  const lines = [`${req.method} ${req.url} HTTP/1.1`];
  for (const [k, v] of Object.entries(forwardedHeaders(req, secure, true))) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  upstream.once('connect', () => {
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = (): void => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', (err) => {
    if (socket.writable && upstream.bytesRead === 0) {
      const body = `ingress: backend unreachable: ${err.message}\n`;
      socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else close();
  });
  socket.on('error', close);
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
}

/** A keep-alive connection pool per endpoint; pools of endpoints no route names any more are closed. */
class BackendPools {
  private readonly pools = new Map<string, Pool>();

  of(b: Backend): Pool {
    const key = `${b.ip}:${b.port}`;
    let pool = this.pools.get(key);
    if (!pool) this.pools.set(key, (pool = newPool(key)));
    return pool;
  }

  keepOnly(backends: Backend[]): void {
    const wanted = new Set(backends.map((b) => `${b.ip}:${b.port}`));
    for (const [key, pool] of this.pools) {
      if (wanted.has(key)) continue;
      this.pools.delete(key);
      void pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
    this.pools.clear();
  }
}

/**
 * undici is loaded with the first pool, i.e. the first request routed: it is most of what the
 * ingress would add to an idle agent's RSS (measured ~+20 MB on Node 20, bench/RESULTS.md), and
 * many nodes route nothing for long stretches.
 */
function newPool(key: string): Pool {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const undici = require('undici') as typeof import('undici');
  return new undici.Pool(`http://${key}`, { connections: 128, keepAliveTimeout: 30_000, headersTimeout: 300_000, bodyTimeout: 0 });
}
