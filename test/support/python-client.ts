import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Debian's python3 (with python3-kubernetes); a pyenv python on PATH lacks the package. */
const PYTHON = process.env.LOTSE_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(__dirname, 'python-client.py');

/** Runs one python-client.py command to its end; rejects with the client's own output on failure. */
export function pythonClient(kubeconfig: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, kubeconfig, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python client ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}

/** A long-running python-client.py command (watch) whose output is collected as it comes. */
export function pythonClientStream(kubeconfig: string, args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(PYTHON, [SCRIPT, kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}
