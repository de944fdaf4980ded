import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { rawRequest } from './https-raw';

const root = join(__dirname, '..', '..');
export const lotseBin = join(root, 'bin', 'lotse');

export interface MasterProcess {
  child: ChildProcess;
  url: string;
  caPem: string;
  adminToken: string;
  log: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `lotse master` as a real process (from dist/: `npm run build` first), ready once /readyz answers.
 * `program` runs another build: [a node executable, a lotse.js bundle].
 */
export async function startMasterProcess(dataDir: string, port: number, extra: string[] = [], program: readonly [string, string] = [process.execPath, lotseBin]): Promise<MasterProcess> {
  if (program[1] === lotseBin && !existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` before this test');
  const child = spawn(program[0], [program[1], 'master', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lotse master exited ${child.exitCode}: ${out}`);
    if (existsSync(join(dataDir, 'tokens.json'))) {
      const caPem = readFileSync(join(dataDir, 'ca.crt'), 'utf8');
      const ok = await rawRequest(url, caPem, 'GET', '/readyz', { timeoutMs: 1000 }).then((r) => r.status === 200, () => false);
      if (ok) {
        const adminToken = (JSON.parse(readFileSync(join(dataDir, 'tokens.json'), 'utf8')) as { admin: string }).admin;
        return {
          child,
          url,
          caPem,
          adminToken,
          log: () => out,
          kill: (signal = 'SIGTERM') =>
            new Promise((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill(signal);
            }),
        };
      }
    }
    if (Date.now() > deadline) throw new Error(`lotse master did not become ready within 20 s: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
