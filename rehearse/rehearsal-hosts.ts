import { join } from 'node:path';
import { hostMemoryBytes } from './cgroups';
import { ensureHostImage } from './host-image';
import { destroyHost, type HostRecord, hostPaths, isAlive, mountHostRoot, startHost, stopHost, waitForBoot } from './host-machine';
import { applyIgnition } from './ignition-apply';
import { createHostLink, createLabNetwork, destroyHostLink, destroyLabNetwork, hostLinkFor, labNetworkFor } from './lab-network';
import { forgetState, loadState, type RehearsalState, saveState } from './rehearsal-state';
import { stackDir } from './rehearse-home';
import type { StackMachine } from './stack-machines';

/** One line of progress: the host (or `*`), the step and what happened. */
export type Progress = (host: string, step: string, detail: string) => void;

/** Cloud stacks get addresses from the rehearsal's range; the Pi stack keeps its static ones. */
function addressesFor(machines: readonly StackMachine[], stack: string): { prefix?: string; addresses: string[] } {
  const fixed = machines.map((m) => m.fixedAddress);
  if (fixed.every((a): a is string => a !== undefined)) {
    const prefixes = new Set(fixed.map((a) => a.split('.').slice(0, 3).join('.')));
    if (prefixes.size !== 1) throw new Error(`the ${stack} stack's addresses ${fixed.join(', ')} are not in one /24; the rehearsal puts every host on one bridge`);
    return { prefix: [...prefixes][0], addresses: fixed };
  }
  return { addresses: machines.map((_, i) => `${labNetworkFor(stack).prefix}.${10 + i}`) };
}

/**
 * Boots every machine of a synthesized stack here: the lab network, then per host (in parallel)
 * its veth, a fresh overlay, its own Ignition config applied by the Ignition binary, and
 * systemd-nspawn until systemd reports the boot finished.
 */
export async function bootStack(stack: string, machines: readonly StackMachine[], extra: { outputsFile: string; identityFile: string }, progress: Progress): Promise<RehearsalState> {
  const image = await ensureHostImage((line) => progress('*', 'image', line));
  const { prefix, addresses } = addressesFor(machines, stack);
  const network = labNetworkFor(stack, prefix);
  if (addresses.includes(network.gateway)) throw new Error(`host address ${network.gateway} is the rehearsal's gateway on that /24; give the Pis other addresses`);
  await tearDown(stack, progress);
  await createLabNetwork(network);
  progress('*', 'network', `${network.namespace}: bridge ${network.prefix}.0/24, this machine is ${network.gateway}`);
  const hosts: HostRecord[] = machines.map((m, i) => {
    const link = hostLinkFor(network, i, addresses[i]);
    return { name: m.name, role: m.role, address: addresses[i], dir: join(stackDir(stack), 'hosts', m.name), namespace: link.namespace, cgroup: `lotse-rh-${stack}-${m.name}` };
  });
  const state: RehearsalState = { stack, image, network, hosts, ...extra };
  saveState(state);
  await Promise.all(hosts.map(async (host, i) => {
    await createHostLink(network, hostLinkFor(network, i, host.address));
    await mountHostRoot(host, image, true);
    const ign = await applyIgnition(machines[i].ignition, hostPaths(host).root, hostPaths(host).ignition);
    progress(host.name, 'ignition', `fetch-offline + files applied in ${(ign.ms / 1000).toFixed(1)} s`);
    await startHost(host);
    saveState(state);
    const boot = await waitForBoot(host);
    progress(host.name, 'boot', `${boot.state} after ${(boot.ms / 1000).toFixed(1)} s at ${host.address}`);
  }));
  saveState(state);
  return state;
}

function findHost(state: RehearsalState, name: string): HostRecord {
  const host = state.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no host "${name}" in the ${state.stack} rehearsal; its hosts: ${state.hosts.map((h) => h.name).join(', ')}`);
  return host;
}

/** Like a cloud console's "stop": the host shuts down, its disk (overlay upper layer) stays. */
export async function powerOff(state: RehearsalState, name: string): Promise<void> {
  await stopHost(findHost(state, name));
  saveState(state);
}

/** Like "start": boots the same disk again; Ignition does not run again (it only runs on first boot). */
export async function powerOn(state: RehearsalState, name: string): Promise<{ state: string; ms: number }> {
  const host = findHost(state, name);
  if (isAlive(host.nspawnPid)) return { state: 'already running', ms: 0 };
  await mountHostRoot(host, state.image, false);
  await startHost(host);
  saveState(state);
  return waitForBoot(host);
}

export interface HostStatus {
  readonly name: string;
  readonly role: string;
  readonly address: string;
  readonly running: boolean;
  readonly memoryMiB?: number;
}

export function hostStatuses(state: RehearsalState): HostStatus[] {
  return state.hosts.map((h) => {
    const bytes = hostMemoryBytes(h.cgroup);
    const running = isAlive(h.nspawnPid);
    return { name: h.name, role: h.role, address: h.address, running, ...(running && bytes !== undefined ? { memoryMiB: Math.round(bytes / 1048576) } : {}) };
  });
}

/** Removes everything a rehearsal of this stack made: hosts, their namespaces, mounts and cgroups, the bridge. */
export async function tearDown(stack: string, progress: Progress): Promise<boolean> {
  const state = loadState(stack);
  if (!state) return false;
  await Promise.all(state.hosts.map(async (host, i) => {
    await destroyHost(host);
    await destroyHostLink(hostLinkFor(state.network, i, host.address));
    progress(host.name, 'down', 'stopped and removed');
  }));
  await destroyLabNetwork(state.network);
  forgetState(stack);
  return true;
}
