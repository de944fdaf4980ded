import { Agent, request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { SshConnection } from './ssh-connection';

export interface TunnelRequest {
  port: number;
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  ca: string;
  cert?: string;
  key?: string;
  timeoutMs?: number;
}

export interface TunnelResponse {
  status: number;
  body: string;
}

/**
 * One HTTPS request to a port on the host's loopback, through the SSH connection. The bootstrap
 * reaches etcd and the API this way, so it needs no open port but SSH, jump hosts included.
 */
export async function tunnelRequest(conn: SshConnection, req: TunnelRequest): Promise<TunnelResponse> {
  const stream = await conn.tunnel(req.port);
  // An agent whose only connection is the tunnel: https ignores createConnection given per request.
  const agent = new Agent({ keepAlive: false });
  agent.createConnection = () => tlsConnect({ socket: stream, ca: req.ca, cert: req.cert, key: req.key, servername: 'localhost' });
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: '127.0.0.1',
        port: req.port,
        method: req.method ?? 'GET',
        path: req.path,
        headers: { ...(req.body ? { 'content-type': 'application/json' } : {}), ...req.headers },
        agent,
        timeout: req.timeoutMs ?? 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          stream.destroy();
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${(req.timeoutMs ?? 10_000) / 1000} s`)));
    r.on('error', (err) => {
      stream.destroy();
      reject(err);
    });
    r.end(req.body);
  });
}

/** Polls `probe` until it returns a value or the deadline passes; the last error explains the timeout. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
