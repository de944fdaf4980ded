/**
 * Time from synthesis to every host of a stack booted from its Ignition (what `lotse rehearse`
 * does before the bootstrap), and each host's memory once idle. Run as root:
 *   npx esbuild bench/rehearse-hosts.ts --bundle --platform=node --packages=external --outfile=/tmp/bench-rehearse.js && NODE_PATH=$PWD/node_modules node /tmp/bench-rehearse.js [cluster.yaml]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateConfig } from '../stacks/config/validate';
import { ensureHostImage } from '../rehearse/host-image';
import { bootStack, hostStatuses, tearDown } from '../rehearse/rehearsal-hosts';
import { stackDir } from '../rehearse/rehearse-home';
import { rehearsalIdentity } from '../rehearse/ssh-identity';
import { synthesizeMachines } from '../rehearse/stack-machines';

async function main(): Promise<void> {
  const stack = 'gce';
  const file = process.argv[2] ?? 'cluster.example.yaml';
  await ensureHostImage((l) => process.stderr.write(`${l}\n`));
  const identity = await rehearsalIdentity(stack);
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  raw.sshAuthorizedKeys = [...(raw.sshAuthorizedKeys as string[]), identity.publicKey];
  const started = Date.now();
  const machines = synthesizeMachines(validateConfig(raw, file), stack, join(stackDir(stack), 'cdktf.out'), join(stackDir(stack), 'synth-base'));
  const synthMs = Date.now() - started;
  const state = await bootStack(stack, machines, { outputsFile: '', identityFile: identity.privateKeyFile }, () => undefined);
  const bootMs = Date.now() - started - synthMs;
  await new Promise((r) => setTimeout(r, 10000));
  const memory = hostStatuses(state).map((h) => `${h.name} ${h.memoryMiB ?? '?'} MiB`).join(', ');
  const downStarted = Date.now();
  await tearDown(stack, () => undefined);
  console.log(`${machines.length} hosts: synth ${(synthMs / 1000).toFixed(1)} s, network + Ignition + boot ${(bootMs / 1000).toFixed(1)} s; idle memory after 10 s: ${memory}; down ${((Date.now() - downStarted) / 1000).toFixed(1)} s`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
