import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterOutputsDocument } from '../cluster/cluster-outputs-document';
import { clusterDir } from '../cluster/lotse-home';
import { loadOutputs } from '../bootstrap/inventory';
import { printStep } from '../bootstrap/host-steps';
import { runBootstrap } from '../bootstrap/run-bootstrap';
import type { ClusterConfig, OperatingSystem } from '../stacks/config/cluster-config';
import { validateConfig } from '../stacks/config/validate';
import { type HostRecord, journalTail } from './host-machine';
import { loadImages } from './image-loader';
import { run } from './command-runner';
import { lockRehearsal } from './rehearsal-lock';
import { ensureRehearsalImages, rehearsalImages } from './rehearsal-images';
import { buildBundle } from '../payload/lotse-bundle';
import { NodeBuildShelf } from '../bootstrap/node-install';
import { bootStack, type Progress, tearDown } from './rehearsal-hosts';
import type { RehearsalState } from './rehearsal-state';
import { stackDir } from './rehearse-home';
import { rehearsalIdentity } from './ssh-identity';
import { synthesizeMachines, type StackMachine } from './stack-machines';
import { runSmokeChecks, type SmokeResult } from './smoke-checks';
import { userKubeconfigPath } from '../kube/kubeconfig-file';

export interface RehearseOptions {
  readonly stack: string;
  /** cluster.yaml as parsed YAML (before validation: the rehearsal adds its key). */
  readonly rawConfig: Record<string, unknown>;
  readonly configPath: string;
  readonly os?: OperatingSystem;
  /** Leave the hosts running after the run (else they are removed, also after a failure). */
  readonly keep: boolean;
  /** Local images copied into every host's engine before the bootstrap. */
  readonly loadImages?: readonly string[];
  readonly kubeconfigPath?: string;
  readonly readyTimeoutMs?: number;
  /**
   * The image the smoke checks run (busybox with /bin/hello serving on 8080, nc, hostname; as
   * scripts/build-test-image.sh builds localhost/lotse-hello:1); false skips the smoke checks.
   */
  readonly smokeImage?: string | false;
  readonly out: NodeJS.WritableStream;
}

/** How a rehearsal ended: when the nodes were Ready, and each smoke check. */
export interface RehearsalOutcome {
  readonly state: RehearsalState;
  readonly readyMs: number;
  readonly smoke: readonly SmokeResult[];
}

export const DEFAULT_SMOKE_IMAGE = 'localhost/lotse-hello:1';

/** The cluster name the rehearsal bootstraps under: its PKI and kubeconfig context stay apart from the real cluster's. */
export const rehearsalCluster = (stack: string): string => `rehearse-${stack}`;

/** cluster.yaml with the rehearsal's key added (and --os applied), validated as synth would. */
function rehearsalConfig(options: RehearseOptions, publicKey: string): ClusterConfig {
  const raw = { ...options.rawConfig };
  const keys = Array.isArray(raw.sshAuthorizedKeys) ? (raw.sshAuthorizedKeys as string[]) : [];
  raw.sshAuthorizedKeys = [...keys, publicKey];
  if (options.os) raw.os = options.os;
  return validateConfig(raw, options.configPath);
}

/**
 * What the stack's outputs would be once the cloud filled in addresses: the same document
 * `lotse bootstrap --outputs` reads, with the hosts' addresses here and the rehearsal's key.
 */
function writeOutputs(state: Omit<RehearsalState, 'outputsFile'>, config: ClusterConfig): string {
  const file = join(stackDir(state.stack), 'outputs.json');
  const doc: ClusterOutputsDocument = {
    clusterName: rehearsalCluster(state.stack),
    // The Pi stack's inventory carries raspberryPi.store (SQLite by default), the clouds the top-level one.
    store: state.stack === 'raspberry-pi' && config.raspberryPi ? config.raspberryPi.store : config.store,
    sshUser: 'core',
    masterAddresses: state.hosts.filter((h) => h.role === 'master').map((h) => h.address),
    workerAddresses: state.hosts.filter((h) => h.role === 'worker').map((h) => h.address),
    hosts: state.hosts.map((h) => ({ name: h.name, role: h.role, address: h.address, privateAddress: h.address, user: 'core', port: 22 })),
    clusterNetwork: { podCidr: config.network.podCidr, serviceCidr: config.network.serviceCidr, dnsAddress: config.network.dnsAddress, clusterDomain: config.network.clusterDomain },
    // As a stack with bootstrap.identityFile writes it: `lotse bootstrap --outputs` alone reaches a kept rehearsal.
    sshIdentityFile: state.identityFile,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** The engine a config enables (Flatcar's docker, FCOS's podman); Scaleway is Flatcar whatever `os` says. */
function engineIn(ignition: string): 'podman' | 'docker' {
  const units = (JSON.parse(ignition) as { systemd?: { units?: Array<{ name: string; enabled?: boolean }> } }).systemd?.units ?? [];
  return units.some((u) => u.enabled && u.name.startsWith('docker.')) ? 'docker' : 'podman';
}

/** The lotse units' journals on a host: what a failed bootstrap step points at. */
async function unitReport(host: HostRecord): Promise<string> {
  const units = host.role === 'master' ? ['lotse-etcd', 'lotse-master', 'lotse-flannel', 'lotse-agent'] : ['lotse-flannel', 'lotse-agent'];
  const parts = await Promise.all(units.map(async (u) => `  ${host.name} ${u}.service:\n    ${(await journalTail(host, `${u}.service`, 6)).replace(/\n/g, '\n    ')}`));
  return parts.join('\n');
}

/**
 * `lotse rehearse`: synthesize, boot every machine from its own Ignition, run the real bootstrap
 * over SSH, run the smoke checks, and report. Hosts are removed afterwards (also on failure)
 * unless --keep. Throws when the cluster does not form or a smoke check fails.
 */
export async function rehearse(options: RehearseOptions): Promise<RehearsalOutcome> {
  const started = Date.now();
  const say: Progress = (host, step, detail) => options.out.write(`  ${host.padEnd(16)} ${step.padEnd(10)} ${detail}\n`);
  mkdirSync(stackDir(options.stack), { recursive: true, mode: 0o700 });
  const unlock = lockRehearsal(options.stack);
  try {
    return await rehearseLocked(options, started, say);
  } finally {
    unlock();
  }
}

async function rehearseLocked(options: RehearseOptions, started: number, say: Progress): Promise<RehearsalOutcome> {
  const identity = await rehearsalIdentity(options.stack);
  const config = rehearsalConfig(options, identity.publicKey);
  const dir = stackDir(options.stack);
  say('*', 'synth', `stack ${options.stack} from ${options.configPath} (os ${config.os})`);
  const machines = synthesizeMachines(config, options.stack, join(dir, 'cdktf.out'), join(dir, 'synth-base'));
  say('*', 'synth', `${machines.length} machines: ${machines.map((m) => `${m.name} (${m.role})`).join(', ')}`);
  let state: RehearsalState | undefined;
  try {
    state = await bootStack(options.stack, machines, { outputsFile: '', identityFile: identity.privateKeyFile }, say);
    state = await deliverCluster(state, config, machines, options, say);
    const readyMs = Date.now() - started;
    say('*', 'ready', `every node Ready ${(readyMs / 1000).toFixed(1)} s after start; kubectl --context ${rehearsalCluster(options.stack)} get nodes`);
    const smoke = await smokeChecks(state, options, say);
    const failed = smoke.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(`${failed.length} of ${smoke.length} smoke checks failed: ${failed.map((r) => r.name).join('; ')}`);
    return { state, readyMs, smoke };
  } finally {
    if (!options.keep) await tearDown(options.stack, say);
    else if (state) say('*', 'keep', `hosts left running: lotse rehearse --status --stack ${options.stack}; remove with --down`);
  }
}

/**
 * From booted hosts to a Ready cluster: the images the hosts cannot pull, the outputs document,
 * then the real bootstrap. A failure carries the journals of the lotse units on every host.
 */
export async function deliverCluster(
  booted: RehearsalState,
  config: ClusterConfig,
  machines: readonly StackMachine[],
  options: Pick<RehearseOptions, 'stack' | 'loadImages' | 'kubeconfigPath' | 'readyTimeoutMs' | 'smokeImage' | 'out'>,
  say: Progress,
): Promise<RehearsalState> {
  const shelf = new NodeBuildShelf();
  const bundle = await buildBundle();
  const specs = rehearsalImages(config, { rootfs: booted.image, node: (await shelf.get('amd64')).cached.node, bundle: bundle.path });
  const images = await ensureRehearsalImages(specs, (d) => say('*', 'image', d));
  const smokeImage = options.smokeImage === false ? [] : [options.smokeImage ?? DEFAULT_SMOKE_IMAGE];
  for (const image of smokeImage) {
    if ((await run(['podman', 'image', 'exists', image], { allowFailure: true })).code !== 0) {
      throw new Error(`the smoke checks run ${image}, which this machine's podman does not have: build it (scripts/build-test-image.sh in a lotse checkout), name another with --smoke-image (busybox with /bin/hello on 8080), or skip them with --no-smoke`);
    }
  }
  await loadImages([...images, ...smokeImage, ...(options.loadImages ?? [])], booted.hosts, engineIn(machines[0].ignition), (h, d) => say(h, 'image', d));
  const outputsFile = writeOutputs(booted, config);
  const state = { ...booted, outputsFile };
  // Every rehearsal boots new hosts with new host keys: the pins of the last one no longer apply.
  rmSync(join(clusterDir(rehearsalCluster(options.stack)), 'known_hosts'), { force: true });
  say('*', 'bootstrap', `lotse bootstrap --outputs ${outputsFile}`);
  try {
    await runBootstrap(loadOutputs(outputsFile), {
      bundle,
      nodeBuilds: shelf,
      onStep: printStep(options.out),
      onNotice: (m) => say('*', 'note', m),
      kubeconfigPath: options.kubeconfigPath,
      readyTimeoutMs: options.readyTimeoutMs ?? 300000,
    });
  } catch (err) {
    const reports = await Promise.all(state.hosts.map(unitReport));
    throw new Error(`${(err as Error).message}\n  journals of the lotse units on the hosts:\n${reports.join('\n')}`);
  }
  return state;
}

async function smokeChecks(state: RehearsalState, options: RehearseOptions, say: Progress): Promise<SmokeResult[]> {
  if (options.smokeImage === false) {
    say('*', 'smoke', 'skipped (--no-smoke)');
    return [];
  }
  return runSmokeChecks({
    state,
    kubeconfig: options.kubeconfigPath ?? userKubeconfigPath(),
    context: rehearsalCluster(options.stack),
    image: options.smokeImage ?? DEFAULT_SMOKE_IMAGE,
    report: (r) => say('*', 'smoke', `${r.ok ? 'PASS' : 'FAIL'}  ${r.name} (${(r.ms / 1000).toFixed(1)} s): ${r.detail}`),
  });
}
