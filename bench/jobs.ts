/**
 * Job controller benchmark: N Jobs of one pod each (command `true`, which hollow containers run
 * and exit 0) on hollow nodes; the time from the first create to every Job Complete.
 *
 *   npx esbuild bench/jobs.ts --bundle --platform=node --packages=external --outfile=/tmp/bench-jobs.js \
 *     && NODE_PATH=$PWD/node_modules node /tmp/bench-jobs.js [--jobs 1000] [--nodes 20] [--runs 1]
 *
 * Master, controller manager and hollow nodes share this one process (and the machine's 2 cores).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'kubernetes-types/batch/v1';
import { startHollowNodes } from '../agent/hollow/hollow-nodes';
import { KubeClient } from '../kube/client';
import { batch } from '../kube/resource-path';
import { startControllerManager } from '../master/controllers/controller-manager';
import { startMaster } from '../master/server';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function run(jobs: number, nodes: number): Promise<{ createS: number; completeS: number }> {
  process.env.LOTSE_LOG_LEVEL ??= 'error';
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-jobs-'));
  const master = await startMaster({ dataDir, listen: '127.0.0.1:0' });
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const hollow = await startHollowNodes({ server: master.url, caPem: master.caPem, token: master.joinToken, count: nodes, namePrefix: 'bench', dataDir, leaseIntervalMs: 10_000 });
  const manager = await startControllerManager({ client, identity: 'bench', controllers: ['scheduler', 'job', 'garbage-collector'] });
  try {
    const start = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < jobs) {
        const i = next++;
        await client.create<Job>(batch('jobs', 'default'), {
          apiVersion: 'batch/v1', kind: 'Job', metadata: { name: `bench-${i}` },
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'bench', command: ['true'] }] } } },
        } as Job);
      }
    }));
    const created = Date.now();
    for (;;) {
      const list = await client.list<Job>(batch('jobs', 'default'));
      const done = list.items.filter((j) => j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')).length;
      if (done === jobs) break;
      if (Date.now() - start > 15 * 60_000) throw new Error(`only ${done} of ${jobs} Jobs complete after 15 min`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return { createS: (created - start) / 1000, completeS: (Date.now() - start) / 1000 };
  } finally {
    await manager.stop();
    await hollow.stop();
    client.close();
    await master.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const jobs = Number(arg('jobs', '1000'));
  const nodes = Number(arg('nodes', '20'));
  const runs = Number(arg('runs', '1'));
  for (let r = 0; r < runs; r++) {
    const res = await run(jobs, nodes);
    console.log(JSON.stringify({ jobs, nodes, createdAfterS: res.createS, allCompleteAfterS: res.completeS, jobsPerS: +(jobs / res.completeS).toFixed(1) }));
  }
  process.exit(0);
}

void main();
