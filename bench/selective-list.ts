/**
 * Selective list benchmark (issue 20): the time of a list with a label selector or a field
 * selector against a real `lotse master` (SQLite) as the resource grows, for two builds on the
 * same data: the one in this checkout and another (`--before DIR`, a checkout built with
 * `npm run build`), so the ratio is measured in one run.
 *   npm run build && npx esbuild bench/selective-list.ts --bundle --platform=node --packages=external --outfile=dist/bench/selective-list.js \
 *     && node dist/bench/selective-list.js [--objects 30000,150000] [--lists 40] [--before /path/to/older/checkout]
 * The ConfigMaps carry `app: a<i mod 1000>`, so `app=aK` matches objects/1000 of them; the name
 * list matches one. Prints one JSON line per build and size, then a markdown table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { freePort, lotseBin, startMasterProcess, type MasterProcess } from '../test/support/master-process';

const argOf = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};

const configmaps = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };

async function populate(client: KubeClient, from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < to; i = next++) {
      await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { app: `a${i % 1000}`, bench: 'selective' } }, data: { value: 'x'.repeat(200) } } as never);
    }
  }));
}

function quantiles(ms: number[]): { p50: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number): number => +s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(1);
  return { p50: q(0.5), p99: q(0.99) };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function measure(build: string, master: MasterProcess, objects: number, lists: number): Promise<Record<string, number | string>> {
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  try {
    const first = await timed(() => client.list(configmaps, { labelSelector: 'app=a0' }));
    const label: number[] = [];
    const name: number[] = [];
    for (let i = 0; i < lists; i++) {
      const k = (i * 37) % 1000;
      label.push(await timed(async () => {
        const got = await client.list(configmaps, { labelSelector: `app=a${k}` });
        if (got.items.length !== objects / 1000) throw new Error(`app=a${k} returned ${got.items.length} of ${objects / 1000}`);
      }));
      name.push(await timed(async () => {
        const got = await client.list(configmaps, { fieldSelector: `metadata.name=cm-${(i * 7919) % objects}` });
        if (got.items.length !== 1) throw new Error(`metadata.name list returned ${got.items.length}`);
      }));
    }
    const rssMb = Math.round(Number(execFileSync('ps', ['-o', 'rss=', '-p', String(master.child.pid)]).toString().trim()) / 1024);
    const l = quantiles(label);
    const n = quantiles(name);
    return { build, objects, firstMs: +first.toFixed(1), labelP50: l.p50, labelP99: l.p99, nameP50: n.p50, nameP99: n.p99, rssMb };
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const sizes = argOf('objects', '30000,150000').split(',').map(Number);
  const lists = Number(argOf('lists', '40'));
  const before = argOf('before', '');
  const builds: [string, string][] = [['after', lotseBin], ...(before ? [['before', join(before, 'bin', 'lotse')] as [string, string]] : [])];
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-selective-'));
  const port = await freePort();
  const rows: Record<string, number | string>[] = [];
  let have = 0;
  try {
    for (const size of sizes) {
      const writer = await startMasterProcess(dir, port, ['--no-controllers']);
      const client = new KubeClient({ server: writer.url, ca: writer.caPem, token: writer.adminToken });
      const t = Date.now();
      await populate(client, have, size);
      process.stderr.write(`created ${size - have} ConfigMaps in ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
      have = size;
      client.close();
      await writer.kill();
      // Each build starts on the same data with nothing cached, so the first list shows the cache fill.
      for (const [build, bin] of builds) {
        const master = await startMasterProcess(dir, port, ['--no-controllers'], [process.execPath, bin]);
        try {
          const row = await measure(build, master, size, lists);
          process.stdout.write(`${JSON.stringify(row)}\n`);
          rows.push(row);
        } finally {
          await master.kill();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write('\n| build | objects | first selective list | label list p50 / p99 (objects/1000 items) | name list p50 / p99 (1 item) | master RSS |\n| --- | ---: | ---: | ---: | ---: | ---: |\n');
  for (const r of rows) process.stdout.write(`| ${r.build} | ${r.objects.toLocaleString('en')} | ${r.firstMs} ms | ${r.labelP50} / ${r.labelP99} ms | ${r.nameP50} / ${r.nameP99} ms | ${r.rssMb} MiB |\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
