import { spawn } from 'node:child_process';
import { fail } from './errors';

/** Which Debian package provides each external tool, so a missing tool can be named with its fix. */
const PACKAGE_OF: Record<string, string> = {
  xz: 'xz-utils',
  debugfs: 'e2fsprogs',
  mcopy: 'mtools',
  mmd: 'mtools',
  mdir: 'mtools',
  unzip: 'unzip',
  blockdev: 'util-linux',
  flock: 'util-linux',
};

export interface ToolResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs a tool to completion; a non-zero exit or a missing binary becomes an error that says what to do. */
export function runTool(tool: string, args: string[], env?: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => reject(toolSpawnError(tool, e)));
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else reject(fail(`${tool} ${args.join(' ')} exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

export function toolSpawnError(tool: string, e: NodeJS.ErrnoException): Error {
  if (e.code === 'ENOENT') {
    const pkg = PACKAGE_OF[tool];
    return fail(`${tool} is not installed${pkg ? `; install it with "apt-get install ${pkg}"` : ''}`);
  }
  return fail(`could not start ${tool}: ${e.message}`);
}
