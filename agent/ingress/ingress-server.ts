import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
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
 * path (IngressRoutes) straight to a ready endpoint of the Service, round-robin, through
 * http-proxy-3 with keep-alive connections to the pods; WebSocket upgrades and streamed bodies
 * pass through. TLS is terminated with the certificate the SNI name selects.
 */
export async function startIngressServer(o: IngressServerOptions): Promise<RunningIngressServer> {
  let routes: IngressRoutes | undefined;
  let contexts = new Map<string, tls.SecureContext>();
  const fallback = tls.createSecureContext({ cert: o.fallbackCertificate.certPem, key: o.fallbackCertificate.keyPem });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: 60_000 });
  const proxy = createProxyServer({ agent, xfwd: true, ws: true, proxyTimeout: 300_000 });
  const next = roundRobin();

  proxy.on('error', (err, _req, res) => {
    const message = `ingress: backend unreachable: ${err.message}\n`;
    if (res instanceof http.ServerResponse) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(message);
    } else {
      (res as Duplex).destroy();
    }
  });

  const pick = (host: string | undefined, url: string | undefined): { target: RouteTarget; backend: Backend } | { status: number; body: string } => {
    const target = routes?.match(host, url ?? '/');
    if (!target) return { status: 404, body: notFound };
    const backend = next(target);
    if (!backend) return { status: 503, body: `no ready endpoints for ${target.id}\n` };
    return { target, backend };
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chosen = pick(req.headers.host, req.url);
    if ('status' in chosen) {
      res.writeHead(chosen.status, { 'content-type': 'text/plain' });
      res.end(chosen.body);
      return;
    }
    proxy.web(req, res, { target: `http://${chosen.backend.ip}:${chosen.backend.port}` });
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const chosen = pick(req.headers.host, req.url);
    if ('status' in chosen) {
      socket.end(`HTTP/1.1 ${chosen.status} ${http.STATUS_CODES[chosen.status]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(chosen.body)}\r\nconnection: close\r\n\r\n${chosen.body}`);
      return;
    }
    proxy.ws(req, socket, head, { target: `http://${chosen.backend.ip}:${chosen.backend.port}` });
  };

  const servers: http.Server[] = [];
  let httpPort: number | undefined;
  let httpsPort: number | undefined;
  if (o.httpPort > 0) {
    const server = http.createServer(onRequest);
    server.on('upgrade', onUpgrade);
    httpPort = await listen(server, o.address, o.httpPort);
    servers.push(server);
  }
  if (o.httpsPort > 0) {
    const server = https.createServer({
      SNICallback: (servername, cb) => cb(null, contextFor(contexts, servername) ?? fallback),
      cert: o.fallbackCertificate.certPem,
      key: o.fallbackCertificate.keyPem,
    }, onRequest);
    server.on('upgrade', onUpgrade);
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
      proxy.close();
      agent.destroy();
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
