/**
 * Time from `lotse rehearse` to every node Ready (synthesis, hosts booted from their Ignition, the
 * images, the real bootstrap), and each host's memory with the cluster running. Run as root, with
 * the host image cached:
 *   npx esbuild bench/rehearse-hosts.ts --bundle --platform=node --packages=external --outfile=/tmp/bench-rehearse.js && NODE_PATH=$PWD/node_modules node /tmp/bench-rehearse.js [cluster.yaml] [--os flatcar]
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ensureHostImage } from '../rehearse/host-image';
import { hostStatuses, tearDown } from '../rehearse/rehearsal-hosts';
import { rehearse } from '../rehearse/rehearsal-run';

async function main(): Promise<void> {
  const stack = 'gce';
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--')) ?? 'cluster.example.yaml';
  const os = args.includes('--os') && args[args.indexOf('--os') + 1] === 'flatcar' ? 'flatcar' : undefined;
  await ensureHostImage((l) => process.stderr.write(`${l}\n`));
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  try {
    const { state, readyMs } = await rehearse({ stack, rawConfig: raw, configPath: file, os, keep: true, smokeImage: false, out: process.stderr });
    await new Promise((r) => setTimeout(r, 10000));
    const memory = hostStatuses(state).map((h) => `${h.name} ${h.memoryMiB ?? '?'} MiB`).join(', ');
    console.log(`${state.hosts.length} hosts (${os ?? 'fedora-coreos'}): every node Ready ${(readyMs / 1000).toFixed(1)} s after start; memory 10 s later: ${memory}`);
  } finally {
    const downStarted = Date.now();
    await tearDown(stack, () => undefined);
    console.log(`down ${((Date.now() - downStarted) / 1000).toFixed(1)} s`);
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
