/**
 * Authorization cost per request: one `lotse master` process (SQLite, no controllers), the same
 * requests sent as the admin (system:masters: no RBAC lookup) and as a ServiceAccount bound to
 * `edit` in its namespace (JWT verified, ServiceAccount looked up, RBAC rules matched).
 *   npm run build && npx esbuild bench/rbac.ts --bundle --platform=node --packages=external --outfile=bench/.out/rbac.js \
 *     && node bench/.out/rbac.js [--requests 4000] [--clients 32] [--runs 3]
 * Each run does both identities, alternating which goes first. Prints JSON per run, then a table of medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { freePort, startMasterProcess } from '../test/support/master-process';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const REQUESTS = arg('requests', 4000);
const CLIENTS = arg('clients', 32);
const RUNS = arg('runs', 3);
const NS = 'bench';

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function closedLoop(total: number, op: (i: number) => Promise<unknown>): Promise<{ perSec: number; p99: number }> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = next++; i < total; i = next++) {
      const t = performance.now();
      await op(i);
      lat.push(performance.now() - t);
    }
  }));
  return { perSec: Math.round(total / ((performance.now() - start) / 1000)), p99: +pct(lat, 99).toFixed(2) };
}

type Figures = Record<string, { perSec: number; p99: number }>;

async function workload(client: KubeClient, tag: string): Promise<Figures> {
  const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: NS };
  const create = await closedLoop(REQUESTS, (i) => client.create(cms, { metadata: { name: `${tag}-${i}` }, data: { i: String(i) } } as never));
  const get = await closedLoop(REQUESTS, (i) => client.get({ ...cms, name: `${tag}-${i % REQUESTS}` }));
  const list = await closedLoop(Math.round(REQUESTS / 10), () => client.list(cms, { labelSelector: 'none=here' }));
  return { create, get, list };
}

async function main(): Promise<void> {
  const results: { admin: Figures; serviceAccount: Figures }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-rbac-'));
    const m = await startMasterProcess(dir, await freePort(), ['--no-controllers']);
    const admin = new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken });
    try {
      await admin.create({ group: '', version: 'v1', resource: 'namespaces' }, { metadata: { name: NS } });
      await admin.create({ group: '', version: 'v1', resource: 'serviceaccounts', namespace: NS }, { metadata: { name: 'bench' } });
      await admin.create({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', namespace: NS }, {
        metadata: { name: 'bench-edit' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: 'bench', namespace: NS }],
      } as never);
      const tr = await admin.create<{ kind?: string; status?: { token?: string } }>({ group: '', version: 'v1', resource: 'serviceaccounts', namespace: NS, name: 'bench', subresource: 'token' }, { spec: { expirationSeconds: 3600 } } as never);
      const sa = new KubeClient({ server: m.url, ca: m.caPem, token: String(tr.status?.token) });
      try {
        // Warm both paths (TLS sessions, JIT, RBAC cache) before measuring.
        await workload(admin, `warm-a${run}`);
        await workload(sa, `warm-s${run}`);
        const order: ['admin' | 'serviceAccount', KubeClient][] = run % 2 === 0 ? [['admin', admin], ['serviceAccount', sa]] : [['serviceAccount', sa], ['admin', admin]];
        const r = {} as { admin: Figures; serviceAccount: Figures };
        for (const [name, client] of order) r[name] = await workload(client, `${name === 'admin' ? 'a' : 's'}-${run}`);
        console.log(JSON.stringify({ run, ...r }));
        results.push(r);
      } finally {
        sa.close();
      }
    } finally {
      admin.close();
      await m.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const med = (xs: number[]): number => pct(xs, 50);
  console.log('\n| requests (median of runs) | admin (no RBAC) req/s | ServiceAccount via RBAC req/s | change | admin p99 ms | ServiceAccount p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const op of ['create', 'get', 'list']) {
    const a = med(results.map((r) => r.admin[op].perSec));
    const s = med(results.map((r) => r.serviceAccount[op].perSec));
    console.log(`| ${op} | ${a} | ${s} | ${(((s - a) / a) * 100).toFixed(1)} % | ${med(results.map((r) => r.admin[op].p99))} | ${med(results.map((r) => r.serviceAccount[op].p99))} |`);
  }
}

void main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
