/**
 * Dashboard benchmark: the size of the bundle the master serves and the first render time in
 * headless Chromium with a cold cache.
 *
 *   npx esbuild bench/dashboard.ts --bundle --platform=node --packages=external --outfile=/tmp/bench-dashboard.js \
 *     && NODE_PATH=$PWD/node_modules node /tmp/bench-dashboard.js [--runs 7] [--pods 200]
 *
 * First render: from navigation start to the first table showing listed data (the page's
 * performance mark "lotse:first-render"), signed in, on the workloads view; "all rows" is until
 * every one of the P pods (Pending, created directly through the API) has its row.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Pod } from 'kubernetes-types/core/v1';
import { chromium } from 'playwright-core';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { startMaster } from '../master/server';

const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const runs = flag('runs', 7);
  const podCount = flag('pods', 200);
  const repo = resolve(process.cwd());
  const built = mkdtempSync(join(tmpdir(), 'lotse-bench-dashboard-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'lotse-bench-master-'));
  execFileSync(process.execPath, [join(repo, 'scripts', 'build-dashboard.mjs'), '--out', built], { stdio: 'inherit' });
  process.env.LOTSE_DASHBOARD_DIR = built;
  process.env.LOTSE_LOG_LEVEL ??= 'warn';

  for (const f of ['app.js', 'app.css', 'index.html']) {
    const body = readFileSync(join(built, f));
    console.log(`${f.padEnd(10)} ${kib(body.length).padStart(10)} raw ${kib(gzipSync(body).length).padStart(10)} gzip`);
  }

  const master = await startMaster({ dataDir, listen: '127.0.0.1:0' });
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  try {
    for (let i = 0; i < podCount; i++) {
      const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `bench-${i}`, labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'registry.example/bench:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } };
      await client.create(core('pods', 'default'), pod);
    }
    const first: number[] = [];
    const loaded: number[] = [];
    const all: number[] = [];
    for (let r = 0; r < runs; r++) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
      await context.addInitScript((token) => sessionStorage.setItem('lotse.dashboard.token', token), master.adminToken);
      const page = await context.newPage();
      await page.goto(`${master.url}/dashboard/#workloads`);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=pods] tbody tr').length === n, podCount, { timeout: 60_000 });
      const allRows = await page.evaluate(() => performance.now());
      const mark = await page.evaluate(() => performance.getEntriesByName('lotse:first-render')[0]?.startTime ?? NaN);
      first.push(mark);
      loaded.push(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd));
      all.push(allRows);
      await context.close();
    }
    console.log(`page and script loaded:  median ${median(loaded).toFixed(0)} ms  [${loaded.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`first render (${runs} cold runs): median ${median(first).toFixed(0)} ms  [${first.map((x) => x.toFixed(0)).join(', ')}]`);
    console.log(`all ${podCount} pod rows:        median ${median(all).toFixed(0)} ms  [${all.map((x) => x.toFixed(0)).join(', ')}]`);
  } finally {
    await browser.close();
    client.close();
    await master.close();
    rmSync(built, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
