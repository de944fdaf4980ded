import type { ClusterPki } from './cluster-pki';
import { etcdHealthy } from './cluster-probes';
import { EtcdMembers, hexId, started, type EtcdMember } from './etcd-members';
import { describeStranger, joinAction, joinInitialCluster, joinOrder, keptInitialCluster, MembershipConflict, staleDataCheck, strangers } from './etcd-membership';
import { asRoot } from './file-sync';
import { etcdEnvFile, etcdPeerUrl, type EtcdInitialCluster, type HostPlan } from './host-files';
import type { StepResult } from './host-steps';
import type { InventoryHost } from './inventory';
import { NODE_LAYOUT } from '../cluster/node-layout';
import type { ServiceHost } from './services';

/** A master as the etcd rollout sees it. */
export interface EtcdTarget extends ServiceHost {
  host: InventoryHost;
  plan?: HostPlan;
}

/** Whether etcd just ensured on a master counts as up; told whether it was restarted. */
export type EtcdReady = (outcome: string) => Promise<true | undefined>;

/** What the rollout borrows from the bootstrap run: its steps, and how it starts a service. */
export interface EtcdRolloutContext {
  cluster: string;
  pki: ClusterPki;
  step: (host: string, name: string, body: () => Promise<StepResult>) => Promise<void>;
  /** Ensures etcd on the master with its plan's env file, then waits for `ready`. */
  startEtcd: (t: EtcdTarget, ready: EtcdReady) => Promise<void>;
  /** Every target at once. */
  together: (targets: EtcdTarget[], body: (t: EtcdTarget) => Promise<void>) => Promise<void>;
  /** One target after the other, each done before the next. */
  inTurn: (targets: EtcdTarget[], body: (t: EtcdTarget) => Promise<void>) => Promise<void>;
  onNotice: (message: string) => void;
}

/** What one master's etcd has: a data dir (it is or was a member), its env file, whether it answers. */
interface Survey {
  hasData: boolean;
  envFile: string;
  members?: EtcdMember[];
}

/** Where each kind of host keeps etcd's data: the Ignition unit's volume, or the supervised fallback's. */
const DATA_DIRS = [NODE_LAYOUT.etcdDataDir, NODE_LAYOUT.fallbackEtcdDataDir];

/**
 * etcd on every master, its membership included. A brand-new cluster forms at once, as ever. When
 * one runs already, the masters that hold etcd data are ensured one at a time, then each master
 * without data joins in turn: the dead machine's member (same peer URL) removed, the new one
 * added, started and healthy before the next is added, since two added but unstarted members can
 * cost the cluster its quorum. Every step looks at etcd first, so an interrupted run finishes on
 * the next one.
 */
export async function rolloutEtcd(masters: EtcdTarget[], ctx: EtcdRolloutContext): Promise<void> {
  const surveys = new Map<string, Survey>();
  await ctx.step('*', 'etcd members', async () => {
    await ctx.together(masters, async (t) => void surveys.set(t.name, await survey(t, ctx.pki)));
    const others = strangers(listedMembers(surveys) ?? [], masters.map((t) => t.host));
    for (const m of others) ctx.onNotice(describeStranger(m));
    checkRemoved(masters, surveys);
    const unknown = others.length > 0 ? `; not in the inventory, left as they are: ${others.map((m) => m.name || hexId(m.id)).join(', ')}` : '';
    return { changed: false, detail: describeSurvey(masters, surveys) + unknown };
  });
  const holders = masters.filter((t) => hasMember(surveys.get(t.name)));
  if (holders.length === 0) return ctx.together(masters, (t) => ctx.startEtcd(t, () => etcdHealthy(t.conn, ctx.pki)));
  const listed = listedMembers(surveys);
  for (const t of holders) {
    const kept = keptInitialCluster(surveys.get(t.name)?.envFile ?? '') ?? (listed && joinInitialCluster(listed, t.host, []));
    if (kept) setInitialCluster(t, ctx, kept);
  }
  // With no member answering, the holders need each other for a quorum: start them together.
  await (listed ? ctx.inTurn : ctx.together)(holders, (t) => ctx.startEtcd(t, () => holderReady(t, ctx.pki)));
  // Pending joiners as the survey saw them (starting the holders adds no member).
  const joiners = joinOrder(masters.filter((t) => !holders.includes(t)).map((t) => t.host), listed ?? []);
  await ctx.inTurn(joiners.map((h) => masters.find((t) => t.host === h) as EtcdTarget), (t) => join(t, holders, masters, ctx));
}

/** The member list from the first master that answered. */
function listedMembers(surveys: Map<string, Survey>): EtcdMember[] | undefined {
  return [...surveys.values()].find((s) => s.members)?.members;
}

/** Stops the run when a master holds etcd data of a member the running cluster no longer has. */
function checkRemoved(masters: EtcdTarget[], surveys: Map<string, Survey>): void {
  const listed = listedMembers(surveys);
  if (!listed) return;
  for (const t of masters) {
    const s = surveys.get(t.name);
    // A master whose own etcd answers is a member, whatever the list from another one says.
    if (s?.hasData && !s.members) staleDataCheck(t.host, listed, DATA_DIRS.map((d) => `${d}/member`));
  }
}

/** A master holds a member when its etcd has data or answers; the others join. */
function hasMember(s: Survey | undefined): boolean {
  return s !== undefined && (s.hasData || s.members !== undefined);
}

async function survey(t: EtcdTarget, pki: ClusterPki): Promise<Survey> {
  const dataTest = DATA_DIRS.map((d) => `[ -d ${d}/member ]`).join(' || ');
  const out = await t.conn.run(asRoot(t, `if ${dataTest}; then echo data=yes; fi\ncat ${NODE_LAYOUT.etcdEnv} 2>/dev/null || true`), 'looking for etcd data');
  const members = await new EtcdMembers(t.conn, pki).list().catch(() => undefined);
  return { hasData: /^data=yes$/m.test(out), envFile: out, members };
}

function describeSurvey(masters: EtcdTarget[], surveys: Map<string, Survey>): string {
  const listed = listedMembers(surveys);
  const joining = masters.filter((t) => !hasMember(surveys.get(t.name))).map((t) => t.name);
  if (joining.length === masters.length) return `a new cluster of ${masters.length} (${masters.map((t) => t.name).join(', ')})`;
  const names = listed?.map((m) => m.name || `${hexId(m.id)} not started`).sort();
  const now = names ? `${names.length} member${names.length === 1 ? '' : 's'} (${names.join(', ')})` : 'no member answers yet';
  return joining.length > 0 ? `${now}; joining one at a time: ${joining.join(', ')}` : now;
}

function setInitialCluster(t: EtcdTarget, ctx: EtcdRolloutContext, initial: EtcdInitialCluster): void {
  t.plan?.services.set('etcd', etcdEnvFile(ctx.cluster, t.host, initial));
}

/**
 * A member is up when healthy; while a member an interrupted run added waits to be started, the
 * cluster may have no quorum until it does, so answering is enough then.
 */
async function holderReady(t: EtcdTarget, pki: ClusterPki): Promise<true | undefined> {
  const members = await new EtcdMembers(t.conn, pki).list();
  if (members.some((m) => !started(m))) return true;
  return etcdHealthy(t.conn, pki);
}

/** One master without etcd data into the running cluster: its member registered, then started and healthy. */
async function join(t: EtcdTarget, holders: EtcdTarget[], masters: EtcdTarget[], ctx: EtcdRolloutContext): Promise<void> {
  await ctx.step(t.name, 'etcd member', async () => {
    const joined = await register(t, holders, masters.map((m) => m.host), ctx.pki).catch((err: Error) => {
      throw new Error(`${t.name} cannot join etcd: ${err.message}`);
    });
    setInitialCluster(t, ctx, joined.initial);
    return { changed: joined.changed, detail: joined.detail };
  });
  await ctx.startEtcd(t, () => etcdHealthy(t.conn, ctx.pki));
}

interface Registered {
  initial: EtcdInitialCluster;
  changed: boolean;
  detail: string;
}

/** Removes the dead machine's member and adds this one, or finds it added by an earlier run. */
async function register(t: EtcdTarget, holders: EtcdTarget[], masters: InventoryHost[], pki: ClusterPki): Promise<Registered> {
  const via = await answering(holders, pki);
  const before = await via.list();
  const action = joinAction(before, t.host, masters);
  if (action.kind === 'resume') {
    return { initial: joinInitialCluster(before, t.host, masters), changed: false, detail: `added earlier as ${hexId(action.pending.id)}, not started yet: starting it` };
  }
  // Only a healthy cluster takes a new member: adding one to a cluster short of a member would leave it without quorum.
  await etcdHealthy(via.conn, pki).catch((err: Error) => {
    throw new MembershipConflict(`etcd is not healthy (${err.message}); a member is added only to a healthy cluster, so check the other masters' etcd first`);
  });
  const removed: string[] = [];
  for (const stale of action.stale) {
    await removeMember(via, stale);
    removed.push(`removed the dead machine's member ${stale.name || '(unnamed)'} ${hexId(stale.id)}`);
  }
  const { added, members } = await addMember(via, t.host);
  return { initial: joinInitialCluster(members, t.host, masters), changed: true, detail: [...removed, `added as ${hexId(added.id)}`].join('; ') };
}

/** How long etcd may refuse a membership change while its peers have not been connected long enough. */
const SETTLE_MS = 30_000;
const UNSETTLED = /unhealthy cluster|not enough started members/;

/**
 * A membership change, tried again while etcd answers that its members are not settled: it takes
 * one only once the members it needs have been connected for 5 s, which a member that just
 * joined (or restarted) is not yet. Each attempt looks at the member list first, so an earlier
 * attempt that was applied although its answer got lost is not applied twice.
 */
async function patiently<T>(change: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    try {
      return await change();
    } catch (err) {
      if (!UNSETTLED.test((err as Error).message) || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function addMember(via: MemberApi, joiner: InventoryHost): Promise<{ added: EtcdMember; members: EtcdMember[] }> {
  const peer = etcdPeerUrl(joiner);
  return patiently(async () => {
    const members = await via.list();
    const added = members.find((m) => m.peerUrls.includes(peer) && !started(m));
    return added ? { added, members } : via.members.add(peer);
  });
}

function removeMember(via: MemberApi, stale: EtcdMember): Promise<void> {
  return patiently(async () => {
    if ((await via.list()).some((m) => m.id === stale.id)) await via.members.remove(stale.id);
  });
}

/** A running member's membership API, and the connection of its master. */
interface MemberApi {
  conn: EtcdTarget['conn'];
  members: EtcdMembers;
  list: () => Promise<EtcdMember[]>;
}

/** The first holder whose etcd answers, with its connection and membership API. */
async function answering(holders: EtcdTarget[], pki: ClusterPki): Promise<MemberApi> {
  const errors: string[] = [];
  for (const t of holders) {
    const members = new EtcdMembers(t.conn, pki);
    try {
      await members.list();
      return { conn: t.conn, members, list: () => members.list() };
    } catch (err) {
      errors.push(`${t.name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no etcd member answers (${errors.join('; ')}); check etcd's log on the masters (${NODE_LAYOUT.logFile('etcd')}, or journalctl -u lotse-etcd)`);
}
