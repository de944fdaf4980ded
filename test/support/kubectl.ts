import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlStream {
  child: ChildProcess;
  output: () => string;
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
  stop: () => void;
}

/** One kubectl binary: runs, runs that must succeed, and long-running commands. */
export interface Kubectl {
  binary: string;
  run(kubeconfig: string, args: string[], input?: string, timeoutMs?: number): Promise<KubectlResult>;
  ok(kubeconfig: string, args: string[], input?: string): Promise<string>;
  stream(kubeconfig: string, args: string[]): KubectlStream;
}

const KUBECTL = process.env.LOTSE_KUBECTL ?? 'kubectl';

/**
 * A runner for the given kubectl binary (a path or a name on PATH). `env` adds variables
 * (KUBE_EDITOR): jest's process.env is a copy that child processes do not see.
 */
export function kubectlAt(binary: string, env: Record<string, string> = {}): Kubectl {
  return {
    binary,
    run: (kubeconfig, args, input, timeoutMs = 30_000) =>
      new Promise((resolve) => {
        const child = execFile(binary, ['--kubeconfig', kubeconfig, ...args], { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? Number((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
        if (input !== undefined) child.stdin?.end(input);
      }),
    ok: async (kubeconfig, args, input) => {
      const r = await kubectlAt(binary, env).run(kubeconfig, args, input);
      if (r.code !== 0) throw new Error(`${binary} ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
      return r.stdout;
    },
    stream: (kubeconfig, args) => streamOf(binary, kubeconfig, args),
  };
}

/**
 * The versioned kubectl binaries installed next to the default one (kubectl.1.27 ... in the
 * Google Cloud SDK's bin folder), by minor version; the default binary serves its own minor.
 */
export function kubectlVersions(): Map<string, string> {
  const found = new Map<string, string>();
  let dir: string;
  try {
    const onPath = execFileSync('sh', ['-c', `command -v ${KUBECTL}`], { encoding: 'utf8' }).trim();
    dir = dirname(realpathSync(onPath));
  } catch {
    return found;
  }
  for (let minor = 20; minor <= 40; minor++) {
    const p = join(dir, `kubectl.1.${minor}`);
    if (existsSync(p)) found.set(`1.${minor}`, p);
  }
  return found;
}

const defaultKubectl = kubectlAt(KUBECTL);

/** Runs the real kubectl binary against a kubeconfig; never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, args: string[], input?: string, timeoutMs = 30_000): Promise<KubectlResult> {
  return defaultKubectl.run(kubeconfig, args, input, timeoutMs);
}

/** Like kubectl() but fails the test with kubectl's own words when it exits non-zero. */
export function kubectlOk(kubeconfig: string, args: string[], input?: string): Promise<string> {
  return defaultKubectl.ok(kubeconfig, args, input);
}

/** A long-running kubectl (get -w, logs -f) whose output is collected until stop(). */
export function kubectlStream(kubeconfig: string, args: string[]): KubectlStream {
  return defaultKubectl.stream(kubeconfig, args);
}

function streamOf(binary: string, kubeconfig: string, args: string[]): KubectlStream {
  const child = spawn(binary, ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of [...waiters]) {
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    output: () => out,
    waitFor: (re, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(out)) return resolve();
        const timer = setTimeout(() => reject(new Error(`${binary} ${args.join(' ')} did not print ${re} within ${timeoutMs} ms; output so far:\n${out}`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    stop: () => child.kill('SIGTERM'),
  };
}
