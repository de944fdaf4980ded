import { spawn } from 'node:child_process';

/** What a finished command left behind. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  /** Each line of stderr/stdout as it arrives (progress of long builds). */
  readonly onLine?: (line: string) => void;
  /** Kills the command after this long; default: no limit. */
  readonly timeoutMs?: number;
  /** A non-zero exit is returned instead of thrown. */
  readonly allowFailure?: boolean;
}

/** A command that failed, with its arguments and its output's last lines so the cause is visible. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-8).join('\n    ');
    super(`${argv.join(' ')} exited with ${result.code}${tail ? `:\n    ${tail}` : ''}`);
  }
}

const OUTPUT_LIMIT = 1 << 20;

/** Runs one program (no shell), collecting at most 1 MiB of each output stream. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const collect = (which: 'out' | 'err') => (chunk: Buffer): void => {
      const text = chunk.toString();
      if (which === 'out' && stdout.length < OUTPUT_LIMIT) stdout += text;
      if (which === 'err' && stderr.length < OUTPUT_LIMIT) stderr += text;
      if (options.onLine) {
        const lines = (partial + text).split(/\r?\n|\r/);
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) options.onLine(line);
      }
    };
    child.stdout?.on('data', collect('out'));
    child.stderr?.on('data', collect('err'));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${argv[0]}: ${err.message} (is it installed? scripts/setup.sh installs what lotse rehearse needs)`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && !options.allowFailure) reject(new CommandError(argv, result));
      else resolveRun(result);
    });
    if (child.stdin) {
      // A program that exits without reading its input must not crash lotse with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}
