/**
 * The highly available control plane, measured (issue 21):
 *  1. write latency of the API on a 1-member against a 3-member etcd (same run, same machine);
 *  2. SIGKILL of the etcd leader under write load: the longest stretch without an acknowledged
 *     write, the writes refused, and whether any acknowledged write was lost;
 *  3. three `lotse master` processes on the 3-member etcd, SIGKILL of the one holding the
 *     controller-manager Lease: time until another holds it, and the API unavailability a client
 *     that knows every master sees meanwhile.
 *
 *   npm run build && npx esbuild bench/ha.ts --bundle --platform=node --packages=external --outfile=bench/.out/ha.js \
 *     && node bench/.out/ha.js [--writes 2000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Lease } from 'kubernetes-types/coordination/v1';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { startMaster } from '../master/server';
import { startEtcd } from '../test/support/etcd';
import { startEtcdCluster, type EtcdCluster } from '../test/support/etcd-cluster';
import { freePorts } from '../test/support/etcd';

const i = process.argv.indexOf('--writes');
const WRITES = i >= 0 ? Number(process.argv[i + 1]) : 2000;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
process.env.LOTSE_LOG_LEVEL ??= 'fatal';

async function writeLatency(store: string): Promise<{ p50: number; p99: number; perSec: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lotse-bench-ha-'));
  const master = await startMaster({ dataDir, listen: '127.0.0.1:0', store });
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const ms: number[] = [];
  let n = 0;
  const started = performance.now();
  await Promise.all([0, 1, 2, 3].map(async () => {
    while (n < WRITES) {
      const name = `cm-${n++}`;
      const t = performance.now();
      await client.create(core('configmaps', 'default'), { metadata: { name } });
      ms.push(performance.now() - t);
    }
  }));
  const perSec = (ms.length / (performance.now() - started)) * 1000;
  client.close();
  await master.close();
  rmSync(dataDir, { recursive: true, force: true });
  return { p50: pct(ms, 0.5), p99: pct(ms, 0.99), perSec };
}

async function etcdLeaderKill(etcd: EtcdCluster): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lotse-bench-ha-'));
  const master = await startMaster({ dataDir, listen: '127.0.0.1:0', store: etcd.storeSpec });
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, timeoutMs: 10_000 });
  const acked: { name: string; at: number }[] = [];
  let refused = 0;
  let stop = false;
  const writers = Promise.all([0, 1, 2, 3].map(async (w) => {
    for (let k = 0; !stop; k++) {
      try {
        await client.create(core('configmaps', 'default'), { metadata: { name: `kill-${w}-${k}` } });
        acked.push({ name: `kill-${w}-${k}`, at: performance.now() });
      } catch {
        refused++;
        await sleep(20);
      }
    }
  }));
  await sleep(2000);
  const leader = await etcd.leader();
  const killedAt = performance.now();
  await leader.kill9();
  await sleep(5000);
  stop = true;
  await writers;
  const stored = new Set((await client.list(core('configmaps', 'default'))).items.map((c) => c.metadata?.name));
  const lost = acked.filter((a) => !stored.has(a.name)).length;
  const times = acked.map((a) => a.at).filter((t) => t > killedAt - 1000);
  let gap = 0;
  for (let k = 1; k < times.length; k++) gap = Math.max(gap, times[k] - times[k - 1]);
  console.log(`etcd leader SIGKILL under 4 writers: longest gap between acknowledged writes ${gap.toFixed(0)} ms, ${refused} writes refused (503), ${lost} acknowledged writes lost of ${acked.length}`);
  await leader.start();
  client.close();
  await master.close();
  rmSync(dataDir, { recursive: true, force: true });
}

interface MasterProcess {
  child: ChildProcess;
  url: string;
  port: number;
}

function spawnMaster(dataDir: string, port: number, store: string): MasterProcess {
  const child = spawn(process.execPath, [resolve(__dirname, '../../bin/lotse'), 'master', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--store', store, '--no-allocate-node-cidrs'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LOTSE_LOG_LEVEL: 'error' } });
  return { child, url: `https://127.0.0.1:${port}`, port };
}

async function masterPowerOff(etcd: EtcdCluster): Promise<void> {
  const ports = await freePorts(3);
  const dirs = ports.map(() => mkdtempSync(join(tmpdir(), 'lotse-bench-master-')));
  const first = spawnMaster(dirs[0], ports[0], etcd.storeSpec);
  const { readAdminCredentials } = await import('../cli/local/admin-client');
  let creds: ReturnType<typeof readAdminCredentials> | undefined;
  for (let k = 0; k < 300 && !creds; k++) {
    await sleep(100);
    try {
      creds = readAdminCredentials(dirs[0]);
    } catch {
      // not written yet
    }
  }
  if (!creds) throw new Error('the first master wrote no admin.kubeconfig within 30 s');
  for (const d of dirs.slice(1)) cpSync(dirs[0], d, { recursive: true });
  const masters = [first, spawnMaster(dirs[1], ports[1], etcd.storeSpec), spawnMaster(dirs[2], ports[2], etcd.storeSpec)];
  const client = new KubeClient({ server: masters.map((m) => m.url).join(','), ca: creds.caPem, token: creds.token, timeoutMs: 2000 });
  const holder = async (): Promise<string | undefined> =>
    (await client.get<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'lotse-controller-manager' }).catch(() => undefined))?.spec?.holderIdentity ?? undefined;
  let leaderName: string | undefined;
  for (let k = 0; k < 300 && !leaderName; k++) {
    await sleep(100);
    leaderName = await holder();
  }
  const leader = masters.find((m) => leaderName?.endsWith(`_${m.port}`));
  if (!leader) throw new Error(`no master holds the controller lease (holder ${leaderName})`);
  // The client's first master is the leader, so the client must fail over too.
  const probe = new KubeClient({ server: [leader, ...masters.filter((m) => m !== leader)].map((m) => m.url).join(','), ca: creds.caPem, token: creds.token, timeoutMs: 1000 });
  let failing = 0;
  let worst = 0;
  let failures = 0;
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const t = performance.now();
      const ok = await probe.list(core('configmaps', 'default'), { limit: 1 }).then(() => true, () => false);
      if (!ok) {
        failures++;
        failing ||= t;
      } else if (failing) {
        worst = Math.max(worst, performance.now() - failing);
        failing = 0;
      }
      await sleep(50);
    }
  })();
  await sleep(1000);
  const killedAt = performance.now();
  leader.child.kill('SIGKILL');
  let next: string | undefined;
  while (performance.now() - killedAt < 60_000) {
    next = await holder();
    if (next && next !== leaderName) break;
    await sleep(100);
  }
  const takeover = performance.now() - killedAt;
  probing = false;
  await prober;
  console.log(`leading master SIGKILL: another master held the controller lease after ${(takeover / 1000).toFixed(1)} s (${next}); a client knowing all three masters saw ${failures} failed requests, at most ${worst.toFixed(0)} ms without an answer`);
  client.close();
  probe.close();
  for (const m of masters) m.child.kill('SIGTERM');
  await sleep(1000);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const single = await startEtcd();
  const one = await writeLatency(`etcd://${single.hostPort}`);
  await single.stop();
  const cluster = await startEtcdCluster(3);
  try {
    const three = await writeLatency(cluster.storeSpec);
    console.log(`creates, 4 writers, ${WRITES} each run: 1-member etcd p50 ${one.p50.toFixed(1)} ms p99 ${one.p99.toFixed(1)} ms ${one.perSec.toFixed(0)}/s; 3-member p50 ${three.p50.toFixed(1)} ms p99 ${three.p99.toFixed(1)} ms ${three.perSec.toFixed(0)}/s (p99 ratio ${(three.p99 / one.p99).toFixed(2)}×)`);
    await etcdLeaderKill(cluster);
    await masterPowerOff(cluster);
  } finally {
    await cluster.stop();
  }
}

main().then(() => process.exit(0), (err: Error) => {
  console.error(err);
  process.exit(1);
});
