import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ClusterConfig } from '../stacks/config/cluster-config';
import { buildApp } from '../stacks/build-app';
import { hostnameIn } from './ignition-apply';

/** One machine of a synthesized stack: what the cloud (or the SD card) would be handed. */
export interface StackMachine {
  readonly name: string;
  readonly role: 'master' | 'worker';
  /** Its Ignition config, exactly as synthesized. */
  readonly ignition: string;
  /** An address the stack fixes itself (the Pi stack's static addresses); clouds assign theirs. */
  readonly fixedAddress?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every Ignition string anywhere in the stack (user-data, user_data, cloud-init, local_file content). */
function ignitionsIn(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string' && value.startsWith('{"ignition":')) found.push(value);
  else if (Array.isArray(value)) value.forEach((v) => ignitionsIn(v, found));
  else if (isObject(value)) Object.values(value).forEach((v) => ignitionsIn(v, found));
  return found;
}

interface OutputHost { name: string; role: 'master' | 'worker'; address: unknown }

/** The Pi stack has no cloud outputs: its machines are in the bootstrap inventory it writes. */
function inventoryHosts(doc: Json): OutputHost[] {
  const files = ((doc.resource as Json | undefined)?.local_file ?? {}) as Record<string, { content?: string }>;
  for (const file of Object.values(files)) {
    if (!file.content || file.content.startsWith('{')) continue;
    const parsed = parse(file.content) as { hosts?: OutputHost[] } | null;
    if (Array.isArray(parsed?.hosts)) return parsed.hosts;
  }
  return [];
}

/** Reads a synthesized stack (`cdktf.out/stacks/NAME/cdk.tf.json`): one machine per Ignition config. */
export function machinesInSynth(stackJsonPath: string, stack: string): StackMachine[] {
  if (!existsSync(stackJsonPath)) throw new Error(`${stackJsonPath} does not exist: the "${stack}" stack was not synthesized (is its section in cluster.yaml?)`);
  const doc = JSON.parse(readFileSync(stackJsonPath, 'utf8')) as Json;
  const outputs = (doc.output ?? {}) as Record<string, { value?: unknown }>;
  const hosts = (outputs.hosts?.value as OutputHost[] | undefined) ?? inventoryHosts(doc);
  const machines = ignitionsIn(doc.resource).map((ignition): StackMachine => {
    const name = hostnameIn(ignition);
    if (!name) throw new Error(`an Ignition config of the "${stack}" stack sets no /etc/hostname; the rehearsal names hosts after it`);
    const host = hosts.find((h) => h.name === name);
    if (!host) throw new Error(`machine "${name}" of the "${stack}" stack is not in its "hosts" output`);
    const fixed = typeof host.address === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(host.address) ? host.address : undefined;
    return { name, role: host.role, ignition, ...(fixed ? { fixedAddress: fixed } : {}) };
  });
  if (machines.length === 0) throw new Error(`the "${stack}" stack holds no Ignition config`);
  return machines.sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'master' ? -1 : 1));
}

/** Synthesizes the stacks of a cluster.yaml into OUTDIR (the same app `cdktf synth` runs) and reads one. */
export function synthesizeMachines(config: ClusterConfig, stack: string, outdir: string, baseDir: string): StackMachine[] {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  buildApp(config, { outdir, baseDir }).synth();
  return machinesInSynth(join(outdir, 'stacks', stack, 'cdk.tf.json'), stack);
}
