import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

/** Bundles `lotse agent` (test/agent/agent-main.ts) into one file with esbuild; returns its path. */
export async function bundleAgent(): Promise<string> {
  // Inside node_modules so the bundle's require() of the (external) packages resolves.
  const cache = path.join(ROOT, 'node_modules/.cache');
  fs.mkdirSync(cache, { recursive: true });
  const out = path.join(fs.mkdtempSync(path.join(cache, 'lotse-agent-bin-')), 'agent.js');
  await run(path.join(ROOT, 'node_modules/.bin/esbuild'), [
    path.join(ROOT, 'test/agent/agent-main.ts'), '--bundle', '--platform=node', '--target=node20',
    '--packages=external', '--log-level=error', `--outfile=${out}`,
  ], { cwd: ROOT });
  return out;
}

export interface AgentProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL: the agent gets no chance to clean up, as after a crash. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the bundled agent. Unless the test asks for one, no service proxy: the host-wide nftables
 * table would be shared by every suite running at the same time.
 */
export function spawnAgent(bundle: string, args: string[]): AgentProcess {
  const all = args.includes('--proxy-mode') ? args : [...args, '--proxy-mode', 'none'];
  const child = spawn(process.execPath, [bundle, 'agent', ...all], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return { child, output: () => out, kill9: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/**
 * An agent process on podman for a test master: its CA written to dir, 1 s leases, loopback
 * address, no ingress listeners unless `extraArgs` asks for them (80/443 are the host's).
 */
export function spawnPodmanAgent(bundle: string, o: { server: string; caPem: string; joinToken: string; node: string; dir: string; endpoint: string; extraArgs?: string[] }): AgentProcess {
  fs.writeFileSync(path.join(o.dir, 'ca.crt'), o.caPem);
  return spawnAgent(bundle, [
    '--server', o.server, '--token', o.joinToken, '--ca-file', path.join(o.dir, 'ca.crt'),
    '--node-name', o.node, '--data-dir', path.join(o.dir, 'agent'), '--runtime', 'podman',
    '--runtime-endpoint', o.endpoint, '--kubelet-port', '0', '--address', '127.0.0.1', '--lease-interval', '1',
    '--ingress-http-port', '0', '--ingress-https-port', '0', ...(o.extraArgs ?? []),
  ]);
}
