import type Docker from 'dockerode';
import { PassThrough, type Duplex } from 'node:stream';
import type { ExecResult, ExecSession, ExecStreamOptions } from './container-runtime';

/** Commands in running containers: probes and hooks (collected output) and kubectl exec (streams). */
export class EngineExec {
  constructor(private readonly docker: Docker) {}

  async run(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    const session = await this.stream(id, { cmd, stdin: false, tty: false });
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    session.stdout.on('data', (d: Buffer) => out.push(d));
    session.stderr.on('data', (d: Buffer) => errOut.push(d));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([session.exitCode(), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      session.close();
      throw new Error(`command ${JSON.stringify(cmd)} timed out after ${timeoutMs} ms`);
    }
    session.close();
    return { exitCode: result, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() };
  }

  async stream(id: string, options: ExecStreamOptions): Promise<ExecSession> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: options.cmd,
      AttachStdin: options.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: options.tty,
    });
    const stream = (await exec.start({ hijack: true, stdin: options.stdin, Tty: options.tty })) as unknown as Duplex;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (options.tty) stream.pipe(stdout);
    else this.docker.modem.demuxStream(stream, stdout, stderr);
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
        await exec.resize({ w, h }).catch(() => undefined);
      },
      exitCode: async () => {
        await ended;
        // The stream can end a moment before the engine records the exit code.
        for (let i = 0; i < 50; i++) {
          const info = await exec.inspect();
          if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
          await new Promise((r) => setTimeout(r, 20));
        }
        return -1;
      },
      close: () => stream.destroy(),
    };
  }
}
