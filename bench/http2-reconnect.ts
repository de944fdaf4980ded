/**
 * HTTP/2 reconnect benchmark (issue 20): what a node's new connection costs the master, with and
 * without resuming its last TLS session. When the master stalls or restarts, every node's session
 * fails at once and each opens a new one (kube/http2-sessions.ts), so at 5,000 nodes the master
 * does 5,000 handshakes before it answers anything else.
 *   npm run build && npx esbuild bench/http2-reconnect.ts --bundle --platform=node --packages=external --outfile=bench/.out/http2-reconnect.js \
 *     && node bench/.out/http2-reconnect.js [--connections 1000] [--rounds 3]
 * A real `lotse master --no-controllers` (its RSA-2048 serving certificate); one client process
 * here opens --connections sessions one after another, each with one GET, in two modes:
 * "fresh" (a new client per session: a full handshake) and "resumed" (one client whose session is
 * closed after each GET, so the next resumes its ticket). Prints the master's CPU per connection
 * (utime + stime from /proc) and the client's wall time per connection, per round and mode.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { freePort, startMasterProcess } from '../test/support/master-process';
import { procFigures } from './density-stats';

const argOf = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const CONNECTIONS = Number(argOf('connections', '1000'));
const ROUNDS = Number(argOf('rounds', '3'));

function cpuSeconds(pid: number): number {
  const figures = procFigures(pid);
  if (!figures) throw new Error(`the master (pid ${pid}) is gone`);
  return figures.cpuSeconds;
}

type Mode = 'fresh' | 'resumed';

/** Opens CONNECTIONS sessions one after another; returns how many resumed a TLS session. */
async function connections(mode: Mode, server: { url: string; caPem: string; adminToken: string }): Promise<number> {
  const options = { server: server.url, ca: server.caPem, token: server.adminToken, http2: true };
  const shared = mode === 'resumed' ? new KubeClient(options) : undefined;
  let resumed = 0;
  for (let i = 0; i < CONNECTIONS; i++) {
    const client = shared ?? new KubeClient(options);
    await client.get(core('namespaces', undefined, 'default'));
    client.close();
    if (!shared) resumed += client.http2Sessions?.resumed ?? 0;
  }
  return shared ? (shared.http2Sessions?.resumed ?? 0) : resumed;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-reconnect-'));
  const master = await startMasterProcess(dir, await freePort(), ['--no-controllers']);
  const pid = master.child.pid as number;
  try {
    await connections('fresh', master); // warm-up: the master's code paths compiled
    console.log(`| round | mode | connections | resumed | master CPU per connection | client wall time per connection |\n| ---: | --- | ---: | ---: | ---: | ---: |`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of ['fresh', 'resumed'] as const) {
        const cpu0 = cpuSeconds(pid);
        const t0 = performance.now();
        const resumed = await connections(mode, master);
        const wall = (performance.now() - t0) / CONNECTIONS;
        const cpu = ((cpuSeconds(pid) - cpu0) / CONNECTIONS) * 1000;
        console.log(`| ${round} | ${mode} | ${CONNECTIONS} | ${resumed} | ${cpu.toFixed(2)} ms | ${wall.toFixed(2)} ms |`);
      }
    }
  } finally {
    await master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
