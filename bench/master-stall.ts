/**
 * Master-stall benchmark (issue 20): how many of its clients' HTTP/2 connections a master loses
 * when it stalls (a long GC, a starved core), and how soon every client is answered again. A lost
 * connection is a new TLS handshake and new watches for the master as it comes back, from every
 * node at once; at 5,000 nodes those reconnects kept a stalled master stalled.
 *   npm run build && npx esbuild bench/master-stall.ts --bundle --platform=node --packages=external --outfile=bench/.out/master-stall.js \
 *     && node bench/.out/master-stall.js [--clients 1000] [--stalls 10,20,30,40] [--settle 45]
 * A real `lotse master --no-controllers`; --clients KubeClients over HTTP/2 in this process, each
 * with its own connection and a GET every 10 s (a node's Lease renewal period; phases spread
 * evenly). For each stall length in turn the master's process is stopped (SIGSTOP, the master's
 * own node process) and continued; --settle seconds later the sessions the clients opened beyond
 * one each are counted (connections given up), with the requests that failed and the time from
 * SIGCONT until every client had an answer again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { freePort, startMasterProcess } from '../test/support/master-process';

const argOf = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const CLIENTS = Number(argOf('clients', '1000'));
const STALLS_S = argOf('stalls', '10,20,30,40').split(',').map(Number);
const SETTLE_S = Number(argOf('settle', '45'));
const PERIOD_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Heartbeat {
  client: KubeClient;
  lastAnswerAt: number;
  failures: number;
}

/** One client's loop: a GET every PERIOD_MS from its phase on, as a node renews its Lease. */
function beat(h: Heartbeat, phaseMs: number, stopped: () => boolean): void {
  const once = (): void => {
    if (stopped()) return;
    h.client.get(core('namespaces', undefined, 'default')).then(
      () => (h.lastAnswerAt = Date.now()),
      () => h.failures++,
    );
    setTimeout(once, PERIOD_MS);
  };
  setTimeout(once, phaseMs);
}

const opened = (hs: Heartbeat[]): number => hs.reduce((n, h) => n + (h.client.http2Sessions?.sessions ?? 0), 0);
const failed = (hs: Heartbeat[]): number => hs.reduce((n, h) => n + h.failures, 0);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-stall-'));
  const master = await startMasterProcess(dir, await freePort(), ['--no-controllers']);
  const pid = master.child.pid as number;
  let stop = false;
  const hs: Heartbeat[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, http2: true, timeoutMs: PERIOD_MS });
      await client.get(core('namespaces', undefined, 'default'));
      hs.push({ client, lastAnswerAt: Date.now(), failures: 0 });
    }
    hs.forEach((h, i) => beat(h, (i * PERIOD_MS) / CLIENTS, () => stop));
    await sleep(2 * PERIOD_MS);
    console.log(`${CLIENTS} clients, a GET each every ${PERIOD_MS / 1000} s\n`);
    console.log('| stall | connections given up | requests failed | SIGCONT → every client answered |\n| ---: | ---: | ---: | ---: |');
    for (const stallS of STALLS_S) {
      const sessions0 = opened(hs);
      const failed0 = failed(hs);
      process.kill(pid, 'SIGSTOP');
      await sleep(stallS * 1000);
      process.kill(pid, 'SIGCONT');
      const resumedAt = Date.now();
      let recovered: number | undefined;
      const deadline = resumedAt + SETTLE_S * 1000;
      while (Date.now() < deadline) {
        await sleep(100);
        if (recovered === undefined && hs.every((h) => h.lastAnswerAt > resumedAt)) recovered = Date.now() - resumedAt;
      }
      const recoveredText = recovered === undefined ? `> ${SETTLE_S} s` : `${(recovered / 1000).toFixed(1)} s`;
      console.log(`| ${stallS} s | ${opened(hs) - sessions0} of ${CLIENTS} | ${failed(hs) - failed0} | ${recoveredText} |`);
    }
  } finally {
    stop = true;
    process.kill(pid, 'SIGCONT');
    for (const h of hs) h.client.close();
    await master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
