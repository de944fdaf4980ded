/**
 * What authorizing a node's Secret read costs with many pods in its namespace, for a Secret one
 * of its pods refers to (allowed) and one none refers to (refused). Run it against two builds to
 * compare them (bench/RESULTS.md has the A/B).
 *
 *   npx esbuild bench/node-secret-read.ts --bundle --platform=node --packages=external --outfile=bench/.out/node-secret-read.js \
 *     && node bench/.out/node-secret-read.js [--pods 10000] [--reads 200] [--runs 3]
 */
import { KubeClient } from '../kube/client';
import { rawRequest } from '../test/support/https-raw';
import { startTestMaster } from '../test/support/master';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const PODS = arg('pods', 10000);
const READS = arg('reads', 200);
const RUNS = arg('runs', 3);

const core = (resource: string, name?: string) => ({ group: '', version: 'v1', resource, namespace: 'default', name });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function readMs(node: KubeClient, name: string, expectAllowed: boolean): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t = performance.now();
    const ok = await node.get(core('secrets', name)).then(() => true, () => false);
    lat.push(performance.now() - t);
    if (ok !== expectAllowed) throw new Error(`reading ${name}: expected ${expectAllowed ? 'allowed' : 'refused'}`);
  }
  return median(lat);
}

async function run(): Promise<{ referenced: number; unreferenced: number }> {
  process.env.LOTSE_LOG_LEVEL = 'error';
  const m = await startTestMaster();
  try {
    for (const name of ['used', 'unused']) await m.client.create(core('secrets'), { metadata: { name }, stringData: { k: 'v' } } as never);
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < PODS) {
        const i = next++;
        const volumes = i === 0 ? [{ name: 's', secret: { secretName: 'used' } }] : [];
        await m.client.create(core('pods'), { metadata: { name: `p-${i}` }, spec: { nodeName: i % 10 === 0 ? 'n1' : `n${i % 10}`, containers: [{ name: 'c', image: 'i' }], volumes } } as never);
      }
    }));
    const r = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'n1', addresses: ['127.0.0.1'] }) });
    const node = new KubeClient({ server: m.url, ca: m.caPem, token: (JSON.parse(r.body) as { token: string }).token });
    const result = { referenced: await readMs(node, 'used', true), unreferenced: await readMs(node, 'unused', false) };
    node.close();
    return result;
  } finally {
    await m.stop();
  }
}

async function main(): Promise<void> {
  const runs: { referenced: number; unreferenced: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await run());
    console.log(JSON.stringify({ run: i + 1, pods: PODS, ...runs[i] }));
  }
  const ref = median(runs.map((x) => x.referenced));
  const unref = median(runs.map((x) => x.unreferenced));
  console.log(`median of ${RUNS}, ${PODS} pods in the namespace: read of a referenced Secret ${ref.toFixed(2)} ms, of an unreferenced one (refused) ${unref.toFixed(2)} ms`);
}
void main();
