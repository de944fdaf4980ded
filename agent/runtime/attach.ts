import type Docker from 'dockerode';
import http from 'node:http';
import { PassThrough, type Duplex } from 'node:stream';
import type { AttachOptions, ExecSession } from './container-runtime';
import type { EngineEndpoint } from './endpoint';

/**
 * Attaches to a container's main process through the engine's hijacked attach endpoint. Only
 * output written from now on arrives (no log replay), as with the kubelet. The session ends when
 * the engine closes the stream: the process exited, or the client detached.
 */
export async function attachContainer(docker: Docker, endpoint: EngineEndpoint, id: string, options: AttachOptions): Promise<ExecSession> {
  const stream = await hijackAttach(endpoint, id, options.stdin);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (options.tty) stream.pipe(stdout);
  else docker.modem.demuxStream(stream, stdout, stderr);
  const ended = new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (!options.tty) stdout.end();
      stderr.end();
      resolve();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  });
  return {
    stdin: options.stdin ? stream : undefined,
    stdout,
    stderr,
    resize: async (w, h) => {
      await docker.getContainer(id).resize({ w, h }).catch(() => undefined);
    },
    // The kubelet reports a finished attach as success: the process's own exit code is the pod's.
    exitCode: async () => {
      await ended;
      return 0;
    },
    close: () => stream.destroy(),
  };
}

/**
 * POST /containers/ID/attach with an empty body and `Upgrade: tcp`. dockerode cannot send this:
 * it writes its options as a JSON body into the hijacked stream (the process reads it on stdin) or,
 * without one, keeps a chunked body open that podman waits for before it upgrades.
 */
function hijackAttach(endpoint: EngineEndpoint, id: string, stdin: boolean): Promise<Duplex> {
  const query = new URLSearchParams({ stream: '1', stdin: stdin ? '1' : '0', stdout: '1', stderr: '1' });
  const where = 'socketPath' in endpoint ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
  return new Promise((resolve, reject) => {
    const req = http.request({
      ...where,
      method: 'POST',
      path: `/containers/${encodeURIComponent(id)}/attach?${query}`,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': 0 },
    });
    const fail = (why: string): void => reject(new Error(`cannot attach to container ${id.slice(0, 12)}: ${why}`));
    req.once('upgrade', (_res, socket: Duplex, head: Buffer) => {
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.once('response', (res) => {
      // Without an upgrade the engine answered with an error (a stopped or missing container).
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.slice(0, 1000)));
      res.on('end', () => fail(`the engine answered ${res.statusCode}: ${engineText(body)}`));
    });
    req.once('error', (err) => fail(err.message));
    req.end();
  });
}

function engineText(body: string): string {
  try {
    return String((JSON.parse(body) as { message?: string }).message ?? body).trim();
  } catch {
    return body.trim();
  }
}
