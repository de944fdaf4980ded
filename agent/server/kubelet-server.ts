import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { URL } from 'node:url';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ContainerRuntime } from '../runtime/container-runtime';
import { RESOURCE_METRICS_PATH, type NodeResourceMetrics } from '../../kube/node-resource-metrics';
import { serverTlsPolicy } from '../../kube/tls-policy';
import { ExecChannel, pickChannelProtocol } from './exec-channel';
import { portForwardProtocol, portForwardTunnelProtocol, servePortForward } from './port-forward';
import { runSpdyExec, spdyExecProtocol } from './spdy-exec';
import { SpdyConnection } from './spdy/spdy-connection';

/** Where a request's container lives, or why it cannot be served (HTTP code + message). */
export type ContainerLookup = { id: string } | { code: number; message: string };

export interface KubeletServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  runtime: ContainerRuntime;
  locate(namespace: string, pod: string, container: string, previous: boolean): Promise<ContainerLookup>;
  /** The IP of a pod on this node, for port-forward. */
  podAddress(namespace: string, pod: string): Promise<{ ip: string } | { code: number; message: string }>;
  /** Common name the client certificate must carry (default lotse:master). */
  allowedClientCN?: string;
  /** CPU and memory of the node and its pods, for the master's metrics API. */
  resourceMetrics?: () => Promise<NodeResourceMetrics>;
}

/** Exec/attach channels, and port-forward's SPDY tunnels, are upgraded by different servers. */
interface WebSocketServers {
  channels: WebSocketServer;
  tunnels: WebSocketServer;
}

export interface RunningKubeletServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The agent's HTTPS endpoint for what the master proxies: container logs, exec, attach and port-forward. Only a client
 * certificate signed by the cluster CA with CN lotse:master gets in.
 */
export async function startKubeletServer(o: KubeletServerOptions): Promise<RunningKubeletServer> {
  const allowed = o.allowedClientCN ?? 'lotse:master';
  // ws costs ~7 MB of RSS once loaded; an idle node never needs it, so it loads on the first exec.
  let servers: WebSocketServers | undefined;
  const sockets = async (): Promise<WebSocketServers> => {
    if (!servers) {
      const { WebSocketServer: Server } = await import('ws');
      const channels = new Server({ noServer: true, handleProtocols: (protocols) => pickChannelProtocol([...protocols]) ?? false });
      // ws refuses `SPDY/3.1+portforward.k8s.io` (a '/' is not allowed in a subprotocol token), so
      // tunnels are upgraded without the header and the answer names the protocol kubectl expects.
      const tunnels = new Server({ noServer: true });
      tunnels.on('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${portForwardTunnelProtocol}`));
      servers ??= { channels, tunnels };
    }
    return servers;
  };
  const server = https.createServer({ ...serverTlsPolicy, ca: o.caPem, cert: o.certPem, key: o.keyPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    if (!authorized(req, allowed)) return fail(res, 403, `client certificate CN must be ${allowed}`);
    void handle(o, req, res).catch((err: Error) => {
      if (!res.headersSent) fail(res, 500, err.message);
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void sockets().then((w) => upgrade(o, w, allowed, req, socket, head)).catch((err: Error) => rejectUpgrade(socket, 500, err.message));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const c of [...(servers?.channels.clients ?? []), ...(servers?.tunnels.clients ?? [])]) c.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function authorized(req: IncomingMessage, cn: string): boolean {
  const cert = (req.socket as TLSSocket).getPeerCertificate?.();
  return !!cert && (req.socket as TLSSocket).authorized === true && cert.subject?.CN === cn;
}

function fail(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code }));
}

/** /containerLogs/NS/POD/CONTAINER?follow&previous&tailLines&sinceSeconds&timestamps */
async function handle(o: KubeletServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://agent');
  if (url.pathname === '/healthz') return void res.end('ok');
  if (url.pathname === RESOURCE_METRICS_PATH && req.method === 'GET') {
    if (!o.resourceMetrics) return fail(res, 404, 'this agent reports no resource metrics');
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify(await o.resourceMetrics()));
  }
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]*)$/.exec(url.pathname);
  if (req.method !== 'GET' || !m) return fail(res, 404, `no handler for ${req.method} ${url.pathname}`);
  const q = url.searchParams;
  const [ns, pod, container] = m.slice(1).map(decodeURIComponent);
  const found = await o.locate(ns, pod, container || q.get('container') || '', truthy(q.get('previous')));
  if ('code' in found) return fail(res, found.code, found.message);
  const follow = truthy(q.get('follow'));
  const stream = await o.runtime.logs(found.id, {
    follow,
    timestamps: truthy(q.get('timestamps')),
    tailLines: q.has('tailLines') ? Number(q.get('tailLines')) : undefined,
    sinceSeconds: q.has('sinceSeconds') ? Number(q.get('sinceSeconds')) : undefined,
  });
  res.writeHead(200, { 'content-type': 'text/plain', ...(follow ? { 'transfer-encoding': 'chunked' } : {}) });
  if (follow) res.flushHeaders();
  stream.pipe(res);
  res.on('close', () => stream.destroy());
}

/**
 * /exec/NS/POD/CONTAINER?command=..&stdin&stdout&stderr&tty and /attach/NS/POD/CONTAINER?stdin&..
 * over a WebSocket (v5/v4.channel.k8s.io) or SPDY/3.1 (v4.channel.k8s.io, kubectl <= 1.29 and the
 * fallback of newer ones), and /portForward/NS/POD over SPDY/3.1 (portforward.k8s.io), directly
 * or tunnelled through a WebSocket (kubectl >= 1.31).
 */
async function upgrade(o: KubeletServerOptions, wss: WebSocketServers, allowed: string, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  if (!authorized(req, allowed)) return rejectUpgrade(socket, 403, `client certificate CN must be ${allowed}`);
  const url = new URL(req.url ?? '/', 'https://agent');
  const spdy = String(req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1';
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const forward = /^\/portForward\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (forward) return upgradePortForward(o, wss, forward.slice(1).map(decodeURIComponent), { spdy, offered }, req, socket, head);
  const m = /^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]*)$/.exec(url.pathname);
  if (!m) return rejectUpgrade(socket, 404, `no handler for ${url.pathname}`);
  const operation = m[1] as 'exec' | 'attach';
  const q = url.searchParams;
  const command = q.getAll('command');
  if (operation === 'exec' && !command.length) return rejectUpgrade(socket, 400, 'you must specify at least one command for the container');
  const protocol = spdy ? spdyExecProtocol : pickChannelProtocol(offered);
  if (!protocol) return rejectUpgrade(socket, 400, `unsupported subprotocols [${offered.join(', ')}]: this agent speaks v5.channel.k8s.io and v4.channel.k8s.io over WebSocket, v4.channel.k8s.io over SPDY/3.1`);
  const [ns, pod, container] = m.slice(2).map(decodeURIComponent);
  const found = await o.locate(ns, pod, container || q.get('container') || '', false);
  if ('code' in found) return rejectUpgrade(socket, found.code, found.message);
  const tty = truthy(q.get('tty'));
  const stdin = truthy(q.get('stdin')) || truthy(q.get('input'));
  const stdout = q.get('stdout') !== '0' && q.get('stdout') !== 'false';
  const stderr = q.get('stderr') !== '0' && q.get('stderr') !== 'false';
  const open = operation === 'exec' ? () => o.runtime.execStream(found.id, { cmd: command, stdin, tty }) : () => o.runtime.attachStream(found.id, { stdin, tty });
  if (spdy) {
    const conn = acceptSpdy(req, socket, head, spdyExecProtocol);
    if (conn) void runSpdyExec(conn, { stdin, stdout, stderr, tty }, open, operation);
    return;
  }
  wss.channels.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    void new ExecChannel(ws, protocol, operation).run(open, { stdout, stderr });
  });
}

/**
 * Port-forward speaks SPDY: straight after an SPDY/3.1 upgrade, or inside a WebSocket whose binary
 * messages carry the SPDY bytes (subprotocol SPDY/3.1+portforward.k8s.io), as kube-apiserver's
 * tunnelling handler accepts it from kubectl 1.31 on.
 */
async function upgradePortForward(
  o: KubeletServerOptions,
  wss: WebSocketServers,
  [ns, pod]: string[],
  how: { spdy: boolean; offered: string[] },
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  if (!how.spdy && !how.offered.includes(portForwardTunnelProtocol)) {
    return rejectUpgrade(socket, 400, `port-forward is served over SPDY/3.1 (${portForwardProtocol}) or a WebSocket offering ${portForwardTunnelProtocol}, not [${how.offered.join(', ')}]`);
  }
  const found = await o.podAddress(ns, pod);
  if ('code' in found) return rejectUpgrade(socket, found.code, found.message);
  if (how.spdy) {
    const conn = acceptSpdy(req, socket, head, portForwardProtocol);
    if (conn) servePortForward(conn, found.ip, `${ns}/${pod}`);
    return;
  }
  const { createWebSocketStream } = await import('ws');
  delete req.headers['sec-websocket-protocol'];
  wss.tunnels.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const tunnel = createWebSocketStream(ws);
    const conn = new SpdyConnection(tunnel);
    conn.on('protocolError', () => tunnel.destroy());
    tunnel.on('error', () => tunnel.destroy());
    servePortForward(conn, found.ip, `${ns}/${pod}`);
  });
}

/**
 * Completes a SPDY/3.1 upgrade when the client offers `protocol` in X-Stream-Protocol-Version,
 * else answers 403 as the kubelet does, naming what it speaks.
 */
function acceptSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): SpdyConnection | undefined {
  const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!offered.includes(protocol)) {
    rejectUpgrade(socket, 403, `unable to upgrade: no common stream protocol: the client offers [${offered.join(', ')}], this agent speaks ${protocol}`);
    return undefined;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  if (head.length) socket.unshift(head);
  const conn = new SpdyConnection(socket);
  conn.on('protocolError', () => socket.destroy());
  return conn;
}

function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });
  socket.end(`HTTP/1.1 ${code} ${code === 404 ? 'Not Found' : code === 403 ? 'Forbidden' : code === 400 ? 'Bad Request' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function truthy(v: string | null): boolean {
  return v === 'true' || v === '1';
}
