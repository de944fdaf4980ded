import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'lotse');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the built CLI (bin/lotse → dist/, so `npm run build` first) with env, never throwing. */
export function lotse(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<CliResult> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run npm run build before this suite');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A LOTSE_HOME and KUBECONFIG of the test's own, with PATH and the rest of this process's env. */
export function isolatedEnv(): { env: NodeJS.ProcessEnv; home: string; kubeconfig: string; cleanup(): void } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-up-test-'));
  const kubeconfig = path.join(home, 'kube', 'config');
  const env: NodeJS.ProcessEnv = { ...process.env, LOTSE_HOME: path.join(home, 'lotse'), KUBECONFIG: kubeconfig, CI: '1' };
  delete env.DOCKER_HOST;
  return { env, home, kubeconfig, cleanup: () => fs.rmSync(home, { recursive: true, force: true }) };
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Pids of processes whose command line mentions marker (the test's LOTSE_HOME). */
export function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(marker)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Safety net after a failed test: SIGKILL what still mentions marker. */
export function killMentioning(marker: string): void {
  for (const pid of processesMentioning(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Containers on the local podman that a lotse agent made for node. */
export async function nodeContainers(node: string): Promise<string[]> {
  const { stdout } = await run('podman', ['ps', '-aq', '--filter', `label=io.lotse.node=${node}`]);
  return stdout.split('\n').filter(Boolean);
}

export async function nodeVolumes(node: string): Promise<string[]> {
  const { stdout } = await run('podman', ['volume', 'ls', '-q', '--filter', `label=io.lotse.node=${node}`]);
  return stdout.split('\n').filter(Boolean);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
