import net from 'node:net';
import type { SpdyConnection, SpdyStream } from './spdy/spdy-connection';

/** The port-forward stream protocol (one error and one data stream per forwarded connection). */
export const portForwardProtocol = 'portforward.k8s.io';
/** The WebSocket subprotocol under which kubectl >= 1.31 tunnels the same SPDY connection. */
export const portForwardTunnelProtocol = `SPDY/3.1+${portForwardProtocol}`;

/**
 * Serves `kubectl port-forward` on a SPDY connection, as the kubelet does: every forwarded
 * connection arrives as a pair of streams sharing a `requestid` header, `data` carrying the bytes
 * and `error` a message if the pod's port cannot be reached. The agent reaches the port at the
 * pod's IP (the kubelet enters the pod's network namespace; a port bound to the pod's loopback
 * only is therefore out of reach here).
 */
export function servePortForward(conn: SpdyConnection, podIP: string, podName: string): void {
  const errors = new Map<string, SpdyStream>();
  const pending = new Map<string, SpdyStream>();
  conn.on('stream', (s: SpdyStream) => {
    const type = s.headers.streamtype?.[0];
    const request = s.headers.requestid?.[0] ?? '';
    if (type === 'error') {
      errors.set(request, s);
      const data = pending.get(request);
      if (data) forward(data, s);
    } else if (type === 'data') {
      const error = errors.get(request);
      if (error) forward(s, error);
      else pending.set(request, s);
    } else {
      s.end();
    }
  });

  function forward(data: SpdyStream, error: SpdyStream): void {
    const request = data.headers.requestid?.[0] ?? '';
    errors.delete(request);
    pending.delete(request);
    const port = Number(data.headers.port?.[0]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      error.write(Buffer.from(`invalid port ${JSON.stringify(data.headers.port?.[0] ?? '')}: a port-forward names a port from 1 to 65535`));
      error.end();
      data.end();
      return;
    }
    const socket = net.connect({ host: podIP, port });
    socket.on('connect', () => {
      data.incoming.pipe(socket);
      socket.on('data', (d: Buffer) => data.write(d));
    });
    socket.on('end', () => data.end());
    socket.on('close', () => {
      data.end();
      error.end();
    });
    socket.on('error', (err) => {
      error.write(Buffer.from(`error forwarding port ${port} to pod ${podName}: ${err.message}`));
      error.end();
      data.end();
    });
    data.incoming.on('end', () => socket.end());
    conn.once('close', () => socket.destroy());
  }
}
