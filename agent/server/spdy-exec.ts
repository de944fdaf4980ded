import type { ExecSession } from '../runtime/container-runtime';
import { ended, execStatus } from './exec-channel';
import type { SpdyConnection, SpdyStream } from './spdy/spdy-connection';

/** The exec/attach stream protocol lotse speaks over SPDY: v4 reports the exit code as a Status. */
export const spdyExecProtocol = 'v4.channel.k8s.io';

export interface StreamWants {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** How long the client has to open the streams it asked for, as the kubelet allows. */
const streamCreationTimeoutMs = 30_000;

/**
 * Runs one exec (or attach) over a SPDY connection, as the kubelet's remotecommand server does:
 * the client opens an `error` stream and one per asked-for channel (`stdin`, `stdout`, `stderr`,
 * `resize` with a TTY), each named by its `streamtype` header; the process's end is written to
 * `error` as a metav1.Status and every stream is closed.
 */
export async function runSpdyExec(conn: SpdyConnection, wants: StreamWants, open: () => Promise<ExecSession>, operation: 'exec' | 'attach' = 'exec'): Promise<void> {
  const streams = await collectStreams(conn, wants);
  if (!streams) return conn.close();
  let session: ExecSession;
  try {
    session = await open();
  } catch (err) {
    return finish(conn, streams, { metadata: {}, status: 'Failure', message: `${operation} failed: ${(err as Error).message}`, reason: 'InternalError', code: 500 });
  }
  conn.once('close', () => session.close());
  const stdin = streams.get('stdin');
  if (stdin && session.stdin) {
    stdin.incoming.on('data', (d: Buffer) => session.stdin?.write(d));
    stdin.incoming.on('end', () => session.stdin?.end());
  }
  streams.get('resize')?.incoming.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter((l) => l.trim())) {
      try {
        const size = JSON.parse(line) as { Width: number; Height: number };
        void session.resize(size.Width, size.Height);
      } catch {
        // a malformed resize is ignored, as the kubelet does
      }
    }
  });
  const stdout = streams.get('stdout');
  const stderr = streams.get('stderr');
  session.stdout.on('data', (d: Buffer) => stdout?.write(d));
  session.stderr.on('data', (d: Buffer) => stderr?.write(d));
  const code = await session.exitCode();
  await Promise.all([ended(session.stdout), ended(session.stderr)]);
  session.close();
  finish(conn, streams, execStatus(code));
}

function finish(conn: SpdyConnection, streams: Map<string, SpdyStream>, status: Record<string, unknown>): void {
  streams.get('error')?.write(Buffer.from(JSON.stringify(status)));
  for (const s of streams.values()) s.end();
  conn.close();
}

/** Waits for the streams the request asked for; undefined when the client does not open them in time. */
function collectStreams(conn: SpdyConnection, wants: StreamWants): Promise<Map<string, SpdyStream> | undefined> {
  const expected = new Set(['error']);
  if (wants.stdin) expected.add('stdin');
  if (wants.stdout) expected.add('stdout');
  if (wants.stderr && !wants.tty) expected.add('stderr');
  if (wants.tty) expected.add('resize');
  const got = new Map<string, SpdyStream>();
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), streamCreationTimeoutMs);
    const onStream = (s: SpdyStream): void => {
      const type = s.headers.streamtype?.[0] ?? '';
      got.set(type, s);
      if ([...expected].every((t) => got.has(t))) done(got);
    };
    const onClose = (): void => done(undefined);
    const done = (result: Map<string, SpdyStream> | undefined): void => {
      clearTimeout(timer);
      conn.off('stream', onStream);
      conn.off('close', onClose);
      resolve(result);
    };
    conn.on('stream', onStream);
    conn.on('close', onClose);
  });
}
