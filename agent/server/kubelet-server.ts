import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { URL } from 'node:url';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ContainerRuntime } from '../runtime/container-runtime';
import { serverTlsPolicy } from '../../kube/tls-policy';
import { ExecChannel, pickChannelProtocol } from './exec-channel';

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
  /** Common name the client certificate must carry (default lotse:master). */
  allowedClientCN?: string;
}

export interface RunningKubeletServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The agent's HTTPS endpoint for what the master proxies: container logs and exec. Only a client
 * certificate signed by the cluster CA with CN lotse:master gets in.
 */
export async function startKubeletServer(o: KubeletServerOptions): Promise<RunningKubeletServer> {
  const allowed = o.allowedClientCN ?? 'lotse:master';
  // ws costs ~7 MB of RSS once loaded; an idle node never needs it, so it loads on the first exec.
  let wss: WebSocketServer | undefined;
  const sockets = async (): Promise<WebSocketServer> => {
    if (!wss) {
      const { WebSocketServer: Server } = await import('ws');
      wss ??= new Server({ noServer: true, handleProtocols: (protocols) => pickChannelProtocol([...protocols]) ?? false });
    }
    return wss;
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
        for (const c of wss?.clients ?? []) c.terminate();
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

/** /exec/NS/POD/CONTAINER?command=..&stdin&stdout&stderr&tty over a WebSocket (v5/v4.channel.k8s.io). */
async function upgrade(o: KubeletServerOptions, wss: WebSocketServer, allowed: string, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  if (!authorized(req, allowed)) return rejectUpgrade(socket, 403, `client certificate CN must be ${allowed}`);
  const url = new URL(req.url ?? '/', 'https://agent');
  const m = /^\/exec\/([^/]+)\/([^/]+)\/([^/]*)$/.exec(url.pathname);
  if (!m) return rejectUpgrade(socket, 404, `no handler for ${url.pathname}`);
  const q = url.searchParams;
  const command = q.getAll('command');
  if (!command.length) return rejectUpgrade(socket, 400, 'you must specify at least one command for the container');
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const protocol = pickChannelProtocol(offered);
  if (!protocol) return rejectUpgrade(socket, 400, `unsupported subprotocols [${offered.join(', ')}]: this agent speaks v5.channel.k8s.io and v4.channel.k8s.io`);
  const [ns, pod, container] = m.slice(1).map(decodeURIComponent);
  const found = await o.locate(ns, pod, container || q.get('container') || '', false);
  if ('code' in found) return rejectUpgrade(socket, found.code, found.message);
  const tty = truthy(q.get('tty'));
  const stdin = truthy(q.get('stdin')) || truthy(q.get('input'));
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    void new ExecChannel(ws, protocol).run(() => o.runtime.execStream(found.id, { cmd: command, stdin, tty }), { stdout: q.get('stdout') !== '0' && q.get('stdout') !== 'false', stderr: q.get('stderr') !== '0' && q.get('stderr') !== 'false' });
  });
}

function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });
  socket.end(`HTTP/1.1 ${code} ${code === 404 ? 'Not Found' : code === 403 ? 'Forbidden' : code === 400 ? 'Bad Request' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function truthy(v: string | null): boolean {
  return v === 'true' || v === '1';
}
