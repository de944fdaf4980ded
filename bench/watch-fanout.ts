/**
 * Watch fan-out benchmark (issue 20): how the write latency and throughput of a real `lotse
 * master` process change with the number of open watches on the resource written. The watchers
 * run in a forked process of their own (each a plain HTTPS watch counting the bytes and events it
 * gets), so their cost is the master's, not the writer's.
 *   npm run build && npx esbuild bench/watch-fanout.ts --bundle --platform=node --packages=external --outfile=dist/bench/watch-fanout.js \
 *     && node dist/bench/watch-fanout.js [--watchers 0,500,1000,2000] [--writes 200] [--clients 1] [--store sqlite|etcd] [--lotse CHECKOUT]
 * --lotse runs the master of another checkout (built with `npm run build`), for a before/after in one session.
 * Prints one JSON line per watcher count, then a markdown table.
 */
import { fork } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { startEtcd } from '../test/support/etcd';
import { freePort, lotseBin, startMasterProcess } from '../test/support/master-process';

const argOf = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};

interface WatcherReport {
  open: number;
  events: number;
  bytes: number;
}

/** The child: opens N watches on configmaps and reports counts when asked. */
async function watcherChild(): Promise<void> {
  const [url, ca, token, countText] = process.argv.slice(3);
  const count = Number(countText);
  const agent = new https.Agent({ keepAlive: true, maxSockets: Infinity, ca });
  const report: WatcherReport = { open: 0, events: 0, bytes: 0 };
  // From the current resourceVersion: no initial ADDED events for what earlier rounds created.
  const rv = await new Promise<string>((resolve, reject) => {
    https.get(`${url}/api/v1/namespaces/default/configmaps?limit=1`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve((JSON.parse(body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion));
    }).on('error', reject);
  });
  // Opened 100 at a time: thousands of TLS handshakes at once on a busy 2-core machine end in
  // 'socket hang up' for some, which is the bench's problem, not the watch path's.
  const openOne = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const req = https.request(`${url}/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=false&resourceVersion=${rv}`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`watch answered ${res.statusCode}`));
      report.open++;
      resolve();
      res.on('data', (chunk: Buffer) => {
        report.bytes += chunk.length;
        for (const b of chunk) if (b === 10) report.events++;
      });
    });
    req.on('error', reject);
    req.end();
  });
  for (let opened = 0; opened < count; opened += 100) await Promise.all(Array.from({ length: Math.min(100, count - opened) }, openOne));
  process.send?.({ ready: true });
  process.on('message', () => process.send?.(report));
}

async function measure(client: KubeClient, watchers: number, writes: number, clients: number, url: string, ca: string, token: string, round: number): Promise<Record<string, number>> {
  const child = fork(process.argv[1], ['child', url, ca, token, String(watchers)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`watcher process exited ${code}`)));
  });
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let i = next++; i < writes; i = next++) {
      const t = process.hrtime.bigint();
      await client.create({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `fanout-${round}-${i}` }, data: { value: 'x'.repeat(200) } } as never);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Let the last events reach every watcher before counting.
  await new Promise((r) => setTimeout(r, 1000));
  const report = await new Promise<WatcherReport>((resolve) => {
    child.once('message', (m) => resolve(m as WatcherReport));
    child.send('report');
  });
  child.kill();
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { watchers, creates: writes, createsPerSecond: Math.round(writes / seconds), p50ms: +q(0.5).toFixed(2), p99ms: +q(0.99).toFixed(2), eventsDelivered: report.events, mbDelivered: +(report.bytes / 1048576).toFixed(1) };
}

async function main(): Promise<void> {
  const watcherCounts = argOf('watchers', '0,500,1000,2000').split(',').map(Number);
  const writes = Number(argOf('writes', '200'));
  const clients = Number(argOf('clients', '1'));
  const store = argOf('store', 'sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-fanout-'));
  const etcd = store === 'etcd' ? await startEtcd() : undefined;
  const checkout = argOf('lotse', '');
  const program = [process.execPath, checkout ? join(checkout, 'bin', 'lotse') : lotseBin] as const;
  const master = await startMasterProcess(dir, await freePort(), ['--no-controllers', ...(etcd ? ['--store', `etcd://${etcd.hostPort}`] : [])], program);
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const rows: Record<string, number>[] = [];
  try {
    for (const [round, watchers] of watcherCounts.entries()) {
      const row = await measure(client, watchers, writes, clients, master.url, master.caPem, master.adminToken, round);
      process.stdout.write(`${JSON.stringify({ store, clients, ...row })}\n`);
      rows.push(row);
    }
  } finally {
    client.close();
    await master.kill();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0];
  process.stdout.write(`\n| watchers | creates/s | p50 | p99 | p50 vs ${base.watchers} watchers | events delivered |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n`);
  for (const r of rows) {
    process.stdout.write(`| ${r.watchers} | ${r.createsPerSecond} | ${r.p50ms} ms | ${r.p99ms} ms | ${(r.p50ms / base.p50ms).toFixed(2)}× | ${r.eventsDelivered.toLocaleString('en')} |\n`);
  }
}

if (process.argv[2] === 'child') void watcherChild();
else main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
