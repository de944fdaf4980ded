import type { WebSocket } from 'ws';
import type { ExecSession } from '../runtime/container-runtime';

/** Subprotocols kubectl 1.32 offers for exec, best first; the base channel protocol carries no exit status. */
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export function pickChannelProtocol(offered: string[]): string | undefined {
  return PROTOCOLS.find((p) => offered.includes(p));
}

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
/** v5 only: "close this stream" (the next byte names it), how kubectl signals end of stdin. */
const CLOSE = 255;

/**
 * Kubernetes' streaming channel protocol over one WebSocket: every binary message starts with a
 * channel byte (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize). The process's end is reported on
 * channel 3 as a metav1.Status, with the exit code for a non-zero exit, then the socket closes.
 */
export class ExecChannel {
  constructor(
    private readonly ws: WebSocket,
    private readonly protocol: string,
    private readonly operation: 'exec' | 'attach' = 'exec',
  ) {}

  async run(open: () => Promise<ExecSession>, want: { stdout: boolean; stderr: boolean }): Promise<void> {
    // kubectl sends stdin right after the upgrade: hold it until the process exists.
    const early: Buffer[] = [];
    let session: ExecSession | undefined;
    let closed = false;
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data);
      if (session) this.input(session, buf);
      else early.push(buf);
    });
    this.ws.on('close', () => {
      closed = true;
      session?.close();
    });
    try {
      session = await open();
    } catch (err) {
      return this.finish({ metadata: {}, status: 'Failure', message: `${this.operation} failed: ${(err as Error).message}`, reason: 'InternalError', code: 500 });
    }
    if (closed) return session.close();
    for (const buf of early) this.input(session, buf);
    session.stdout.on('data', (d: Buffer) => want.stdout && this.send(STDOUT, d));
    session.stderr.on('data', (d: Buffer) => want.stderr && this.send(STDERR, d));
    const code = await session.exitCode();
    await Promise.all([ended(session.stdout), ended(session.stderr)]);
    session.close();
    this.finish(execStatus(code));
  }

  private input(session: ExecSession, buf: Buffer): void {
    if (!buf.length) return;
    const channel = buf[0];
    const payload = buf.subarray(1);
    if (channel === STDIN && payload.length) session.stdin?.write(payload);
    else if (channel === RESIZE) {
      try {
        const size = JSON.parse(payload.toString()) as { Width: number; Height: number };
        void session.resize(size.Width, size.Height);
      } catch {
        // a malformed resize is ignored, as the kubelet does
      }
    } else if (channel === CLOSE && this.protocol.startsWith('v5') && payload[0] === STDIN) session.stdin?.end();
  }

  private send(channel: number, data: Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(Buffer.concat([Buffer.from([channel]), data]));
  }

  private finish(status: Record<string, unknown>): void {
    this.send(ERROR, Buffer.from(JSON.stringify(status)));
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
  }
}

/** The metav1.Status that reports a process's end on the error channel (v4 and later). */
export function execStatus(code: number): Record<string, unknown> {
  return code === 0
    ? { metadata: {}, status: 'Success' }
    : {
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: exit status ${code}`,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
      };
}

/** Resolves when a stream has ended (or after a second, for streams that never say so). */
export function ended(s: NodeJS.ReadableStream): Promise<void> {
  const r = s as NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean };
  if (r.readableEnded || r.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('end', resolve);
    s.once('close', resolve);
    setTimeout(resolve, 1000).unref();
  });
}
