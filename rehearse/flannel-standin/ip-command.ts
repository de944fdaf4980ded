import { execFile } from 'node:child_process';

/** What one iproute2/nft invocation printed. */
export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** A command that failed, with the program, its arguments, why (exit code or timeout) and its stderr. */
export class HostCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly stderr: string,
    cause: string,
    context: string,
  ) {
    super(`${context}: ${argv.join(' ')} ${cause}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    this.name = 'HostCommandError';
  }

  /** The object was already gone or never there (a delete of something absent). */
  get isAbsent(): boolean {
    return /No such file or directory|No such process|Cannot find|does not exist|not found/i.test(this.stderr);
  }
}

const TIMEOUT_MS = 10_000;
// Services often run with a PATH lacking the sbin directories where ip, bridge and nft live.
const PATH = [process.env.PATH, '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean).join(':');

/**
 * Runs one program without a shell, bounded by a timeout; rejects with a HostCommandError that
 * says what it was doing (`context`, e.g. "peer node-b: fdb entry").
 */
export function hostCommand(argv: readonly string[], context: string, input?: string): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0], argv.slice(1), { timeout: TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 << 20, env: { ...process.env, PATH } }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      const cause = e.killed ? `did not finish within ${TIMEOUT_MS} ms` : typeof e.code === 'number' ? `exited with ${e.code}` : `could not run (${e.message})`;
      reject(new HostCommandError(argv, String(stderr ?? ''), cause, context));
    });
    if (input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    }
  });
}

/** Runs an iproute2 command with -j and parses its JSON (an empty answer is an empty list). */
export async function hostJson<T>(argv: readonly string[], context: string): Promise<T[]> {
  const { stdout } = await hostCommand(argv, context);
  const text = stdout.trim();
  if (!text) return [];
  try {
    return JSON.parse(text) as T[];
  } catch (err) {
    throw new Error(`${context}: ${argv.join(' ')} printed no JSON (${(err as Error).message}): ${text.slice(0, 200)}`);
  }
}

/** A delete that tolerates the object being gone already (so removal is idempotent). */
export async function hostDelete(argv: readonly string[], context: string): Promise<void> {
  try {
    await hostCommand(argv, context);
  } catch (err) {
    if (err instanceof HostCommandError && err.isAbsent) return;
    throw err;
  }
}
