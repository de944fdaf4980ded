import net from 'node:net';

/** Resolves true when nothing listens on host:port (we could bind it), false when it is taken. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(new Error(`cannot check port ${host}:${port}: ${err.message}`));
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The one-line cause and fix `lotse up` prints when its port is taken. */
export function portTakenMessage(port: number): string {
  return `port ${port} on 127.0.0.1 is already in use by another process: stop that process, or choose another port with lotse up --port ${port === 6443 ? 16443 : port + 1}`;
}
