import { etcdPeerUrl, type EtcdInitialCluster } from './host-files';
import type { InventoryHost } from './inventory';
import { hexId, removeCommand, started, type EtcdMember } from './etcd-members';

/**
 * What the bootstrap does for a master that joins a running etcd (its etcd has no data dir):
 * the decisions only, from etcd's member list, so they are tested without machines.
 */
export type JoinAction =
  /** An earlier run added it and stopped before starting it: start it, do not add it twice. */
  | { kind: 'resume'; pending: EtcdMember }
  /** Remove what the dead machine left registered under this master's peer URL, then add it. */
  | { kind: 'add'; stale: EtcdMember[] };

/** A membership the bootstrap will not change by itself; the message says what to do. */
export class MembershipConflict extends Error {}

/**
 * How `joiner` gets into the cluster. A started member with the joiner's peer URL is the dead
 * machine's: the joiner has that address and no etcd data, so nothing else can be running there.
 * A member with the joiner's name at another address might still run: that is the user's call.
 */
export function joinAction(members: EtcdMember[], joiner: InventoryHost, masters: InventoryHost[]): JoinAction {
  const peer = etcdPeerUrl(joiner);
  const samePeer = members.filter((m) => m.peerUrls.includes(peer));
  const pending = samePeer.find((m) => !started(m));
  if (pending) return { kind: 'resume', pending };
  const renamed = members.find((m) => m.name === joiner.name && !m.peerUrls.includes(peer));
  if (renamed) {
    throw new MembershipConflict(
      `etcd has a member named ${joiner.name} (${hexId(renamed.id)}) at ${renamed.peerUrls.join(', ')}, but the inventory puts ${joiner.name} at ${peer}; ` +
        `if the old machine is gone, remove its member on a master (${removeCommand(renamed)}) and run the bootstrap again`,
    );
  }
  // Adding a member while another one has not started yet can leave the cluster without quorum.
  const masterPeers = new Set(masters.map(etcdPeerUrl));
  const unstarted = members.filter((m) => !started(m) && !m.peerUrls.includes(peer));
  const foreign = unstarted.find((m) => !m.peerUrls.some((u) => masterPeers.has(u)));
  if (foreign) {
    throw new MembershipConflict(
      `etcd has a member added at ${foreign.peerUrls.join(', ')} (${hexId(foreign.id)}) that never started and is no master of the inventory; ` +
        `adding ${joiner.name} as well could cost the cluster its quorum. Remove it on a master (${removeCommand(foreign)}) and run the bootstrap again`,
    );
  }
  if (unstarted.length > 0) throw new MembershipConflict(`etcd member at ${unstarted[0].peerUrls.join(', ')} must start before ${joiner.name} is added (one new member at a time)`);
  return { kind: 'add', stale: samePeer };
}

/**
 * ETCD_INITIAL_CLUSTER for a joining member: exactly the members etcd has (it refuses any
 * other set), each by its name, or for one that has not started yet by its inventory name.
 */
export function joinInitialCluster(members: EtcdMember[], joiner: InventoryHost, masters: InventoryHost[]): EtcdInitialCluster {
  const nameOf = (m: EtcdMember): string => {
    if (m.name) return m.name;
    const master = [joiner, ...masters].find((h) => m.peerUrls.includes(etcdPeerUrl(h)));
    return master?.name ?? `unstarted-${hexId(m.id)}`;
  };
  return { state: 'existing', members: members.flatMap((m) => m.peerUrls.map((u) => `${nameOf(m)}=${u}`)).join(',') };
}

/**
 * A member with a data dir keeps the initial settings it was first started with: etcd ignores
 * them from then on, and rewriting them (the cluster grew, a peer was replaced) would only
 * restart a healthy member. Read from the etcd.env on the host; undefined if there is none.
 */
export function keptInitialCluster(envFile: string): EtcdInitialCluster | undefined {
  const value = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(envFile)?.[1];
  const members = value('ETCD_INITIAL_CLUSTER');
  const state = value('ETCD_INITIAL_CLUSTER_STATE');
  if (!members || (state !== 'new' && state !== 'existing')) return undefined;
  return { state, members };
}

/**
 * A master with etcd data whose member is gone from the cluster (removed by hand) would only
 * fail to start: its data is stale, and discarding it is the user's decision.
 */
export function staleDataCheck(host: InventoryHost, members: EtcdMember[], dataDirs: string[]): void {
  if (members.some((m) => m.peerUrls.includes(etcdPeerUrl(host)))) return;
  throw new MembershipConflict(
    `${host.name} has etcd data but is no member of the running cluster (its member was removed); to have it join again as a new member, ` +
      `stop its etcd and move its data dir away on ${host.name} (${dataDirs.join(' or ')}), then run the bootstrap again`,
  );
}

/** Members no inventory master accounts for: never removed by the bootstrap, only reported. */
export function strangers(members: EtcdMember[], masters: InventoryHost[]): EtcdMember[] {
  const peers = new Set(masters.map(etcdPeerUrl));
  const names = new Set(masters.map((m) => m.name));
  return members.filter((m) => !names.has(m.name) && !m.peerUrls.some((u) => peers.has(u)));
}

/** One line per stranger: who it is and the command that removes it. */
export function describeStranger(m: EtcdMember): string {
  return `etcd member ${m.name || '(never started)'} (${hexId(m.id)}, ${m.peerUrls.join(', ')}) is no master of the inventory; it still counts for quorum. If its machine is gone for good, remove it on a master: ${removeCommand(m)}`;
}

/** Joiners an interrupted run already added go first: a new member may only be added once they run. */
export function joinOrder(joiners: InventoryHost[], members: EtcdMember[]): InventoryHost[] {
  const pending = (h: InventoryHost): boolean => members.some((m) => !started(m) && m.peerUrls.includes(etcdPeerUrl(h)));
  return [...joiners.filter(pending), ...joiners.filter((h) => !pending(h))];
}
