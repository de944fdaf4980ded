import { existsSync } from 'node:fs';
import { run } from './command-runner';

/**
 * The private network of one rehearsal: a bridge inside a network namespace lotse creates, one
 * uplink to this machine (so the bootstrap and kubectl reach the hosts) and one veth per host.
 * Nothing is routed or masqueraded beyond this machine: the range is only used inside it.
 */
export interface LabNetwork {
  /** Namespace holding the bridge, e.g. `lotse-rh-gce`. */
  readonly namespace: string;
  /** First three octets of the /24, e.g. `10.213.1`. */
  readonly prefix: string;
  /** Address of this machine on the lab bridge (the hosts' gateway). */
  readonly gateway: string;
  /** Uplink veth on this machine's side. */
  readonly uplink: string;
  /** Short tag used in interface names (15-character limit). */
  readonly tag: string;
}

/** One fixed /24 per stack so rehearsals of different stacks can run side by side. */
const STACK_INDEX: Record<string, number> = { gce: 1, digitalocean: 2, scaleway: 3, 'raspberry-pi': 4 };

export function labNetworkFor(stack: string, prefixOverride?: string): LabNetwork {
  const index = STACK_INDEX[stack];
  if (index === undefined) throw new Error(`unknown stack "${stack}": choose one of ${Object.keys(STACK_INDEX).join(', ')}`);
  const prefix = prefixOverride ?? `10.213.${index}`;
  const tag = `lrh${index}`;
  return { namespace: `lotse-rh-${stack}`, prefix, gateway: `${prefix}.1`, uplink: `${tag}up`, tag };
}

function namespaceExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/** Refuses a range this machine already routes (another rehearsal, a VPN, `lotse up`'s networks). */
async function assertRangeFree(net: LabNetwork): Promise<void> {
  const routes = (await run(['ip', '-4', 'route', 'show'])).stdout;
  const clash = routes.split('\n').find((line) => line.startsWith(`${net.prefix}.`) && !line.includes(net.uplink));
  if (clash) {
    throw new Error(`the rehearsal's range ${net.prefix}.0/24 is already routed here ("${clash.trim()}"); ` +
      `run "lotse rehearse --down" for a left-over rehearsal or free that range`);
  }
}

/** Creates the namespace, its bridge and the uplink; a left-over of an interrupted run is replaced. */
export async function createLabNetwork(net: LabNetwork): Promise<void> {
  await destroyLabNetwork(net);
  await assertRangeFree(net);
  const ns = ['ip', '-n', net.namespace];
  await run(['ip', 'netns', 'add', net.namespace]);
  await run([...ns, 'link', 'set', 'lo', 'up']);
  await run([...ns, 'link', 'add', 'br0', 'type', 'bridge']);
  await run([...ns, 'link', 'set', 'br0', 'up']);
  await run(['ip', 'link', 'add', net.uplink, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', net.namespace]);
  await run([...ns, 'link', 'set', 'uplink', 'master', 'br0', 'up']);
  await run(['ip', 'addr', 'add', `${net.gateway}/24`, 'dev', net.uplink]);
  await run(['ip', 'link', 'set', net.uplink, 'up']);
}

/** Removes the bridge namespace and the uplink; the hosts' veths go with their own namespaces. */
export async function destroyLabNetwork(net: LabNetwork): Promise<void> {
  await run(['ip', 'link', 'del', net.uplink], { allowFailure: true });
  if (namespaceExists(net.namespace)) await run(['ip', 'netns', 'del', net.namespace], { allowFailure: true });
}

/** The namespace of one host and its veth: `eth0` inside (as on a cloud VM), its peer on the bridge. */
export interface HostLink {
  readonly namespace: string;
  readonly bridgePort: string;
  readonly address: string;
}

export function hostLinkFor(net: LabNetwork, index: number, address: string): HostLink {
  return { namespace: `${net.namespace}-h${index}`, bridgePort: `${net.tag}h${index}`, address };
}

export async function createHostLink(net: LabNetwork, link: HostLink): Promise<void> {
  await destroyHostLink(link);
  const ns = ['ip', '-n', link.namespace];
  await run(['ip', 'netns', 'add', link.namespace]);
  await run(['ip', 'link', 'add', link.bridgePort, 'netns', net.namespace, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', link.namespace]);
  await run(['ip', '-n', net.namespace, 'link', 'set', link.bridgePort, 'master', 'br0', 'up']);
  await run([...ns, 'link', 'set', 'lo', 'up']);
  await run([...ns, 'addr', 'add', `${link.address}/24`, 'dev', 'eth0']);
  await run([...ns, 'link', 'set', 'eth0', 'up']);
  await run([...ns, 'route', 'add', 'default', 'via', net.gateway]);
}

export async function destroyHostLink(link: HostLink): Promise<void> {
  if (namespaceExists(link.namespace)) await run(['ip', 'netns', 'del', link.namespace], { allowFailure: true });
}
