import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

const KUBECTL = process.env.LOTSE_KUBECTL ?? 'kubectl';

/** Runs the real kubectl binary against a kubeconfig; never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, args: string[], input?: string, timeoutMs = 30_000): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? Number((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Like kubectl() but fails the test with kubectl's own words when it exits non-zero. */
export async function kubectlOk(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(kubeconfig, args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A long-running kubectl (get -w, logs -f) whose output is collected until stop(). */
export function kubectlStream(kubeconfig: string, args: string[]): { child: ChildProcess; output: () => string; waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>; stop: () => void } {
  const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
        const timer = setTimeout(() => reject(new Error(`kubectl ${args.join(' ')} did not print ${re} within ${timeoutMs} ms; output so far:\n${out}`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    stop: () => child.kill('SIGTERM'),
  };
}
