/**
 * Wall time of `lotse bootstrap` forming 1 master + N workers (N = 1, 3, 6) on test hosts
 * (network + mount namespaces with their own sshd, hollow agents, Debian's etcd), from nothing to
 * every node Ready, PKI included; the bundle is built once beforehand (its time printed apart).
 * Median of RUNS runs per size. Needs root and openssh-server. VERBOSE=1 prints every step with its time.
 *
 *   npx esbuild bench/bootstrap.ts --bundle --platform=node --external:better-sqlite3 --external:esbuild --external:ssh2 --outfile=/tmp/bench-bootstrap.js
 *   NODE_PATH=$PWD/node_modules node /tmp/bench-bootstrap.js [RUNS=3] [SIZES=1,3,6]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../payload/lotse-bundle';
import { parseInventory } from '../bootstrap/inventory';
import { printStep } from '../bootstrap/host-steps';
import { runBootstrap } from '../bootstrap/run-bootstrap';
import { startSshHosts } from '../test/support/ssh-hosts';

async function formOnce(workers: number, bundle: Awaited<ReturnType<typeof buildBundle>>): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'lotse-bench-home-'));
  process.env.LOTSE_HOME = home;
  const names = ['m1', ...Array.from({ length: workers }, (_, i) => `w${i + 1}`)];
  const lab = await startSshHosts(names.map((name) => ({ name })));
  try {
    const yaml = [
      'name: bench',
      'store: etcd',
      'agent: {runtime: fake}',
      'hosts:',
      ...lab.hosts.map((h) => `  - {name: ${h.name}, address: ${h.address}, user: root, role: ${h.name === 'm1' ? 'master' : 'worker'}, identityFile: ${lab.identityFile}}`),
    ].join('\n');
    const inventory = parseInventory(yaml, join(home, 'inventory.yaml'));
    const started = process.hrtime.bigint();
    await runBootstrap(inventory, { onStep: process.env.VERBOSE ? printStep(process.stderr) : () => undefined, onNotice: () => undefined, kubeconfigPath: join(home, 'kubeconfig'), bundle, readyTimeoutMs: 120_000 });
    return Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    await lab.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  const sizes = (process.argv[3] ?? '1,3,6').split(',').map(Number);
  const bundleDir = mkdtempSync(join(tmpdir(), 'lotse-bench-bundle-'));
  const t0 = Date.now();
  const bundle = await buildBundle(join(bundleDir, 'lotse.js'));
  process.stdout.write(`bundle: ${(bundle.content.length / 1e6).toFixed(1)} MB built in ${Date.now() - t0} ms\n`);
  try {
    for (const n of sizes) {
      const times: number[] = [];
      for (let i = 0; i < runs; i += 1) times.push(await formOnce(n, bundle));
      process.stdout.write(`1 master + ${n} workers: median ${(median(times) / 1000).toFixed(1)} s over ${runs} runs (${times.map((t) => (t / 1000).toFixed(1)).join(', ')} s)\n`);
    }
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
