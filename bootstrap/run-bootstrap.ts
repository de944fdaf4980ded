import { join } from 'node:path';
import { buildBundle, type Bundle } from '../payload/lotse-bundle';
import { clusterDir } from '../cluster/lotse-home';
import { sha256, syncFiles } from './file-sync';
import { describeFacts, detectHost } from './host-facts';
import { planHost, type HostPlan } from './host-files';
import { apiEndpoint, type Inventory, type InventoryHost } from './inventory';
import { userKubeconfigPath } from '../kube/kubeconfig-file';
import { mergeAdminKubeconfig } from './admin-kubeconfig';
import { chooseNodeRuntime, type NodeRuntime } from './node-runtime';
import { installShippedNode, NodeBuildShelf } from './node-install';
import { apiReady, leaseRenewTime, readyNodes } from './cluster-probes';
import { rolloutEtcd } from './etcd-rollout';
import { ensureClusterPki, type ClusterPki } from './cluster-pki';
import { runStep, StepError, type StepListener } from './host-steps';
import { NODE_LAYOUT } from '../cluster/node-layout';
import { ensureService, serviceLogTail, type ServiceHost } from './services';
import type { ServiceName } from './service-scripts';
import { forgetHostKey, hostId } from './host-keys';
import { connectWhenUp } from './ssh-wait';
import { waitFor } from './tunnel-http';

/** How long every node must stay Ready before the run calls the cluster formed. */
const READY_STABLE_MS = 1000;

export interface BootstrapOptions {
  onStep: StepListener;
  /** Told about host keys pinned on first use (trust on first use is never silent). */
  onNotice: (message: string) => void;
  connectTimeoutMs?: number;
  /** How long to keep trying SSH on machines that are still booting (default 15 minutes). */
  sshWaitMs?: number;
  /** Pause between SSH attempts (default 5 s). */
  sshRetryMs?: number;
  /** How long to wait for etcd, the API and every node to be Ready. */
  readyTimeoutMs?: number;
  /** Where to merge the kubeconfig context (default: $KUBECONFIG's first file or ~/.kube/config). */
  kubeconfigPath?: string;
  bundle?: Bundle;
  /** The Node.js builds to ship (default: fetched from the inventory's registry into $LOTSE_HOME/cache/node). */
  nodeBuilds?: NodeBuildShelf;
  /** Hosts whose pinned SSH keys are dropped before connecting (re-flashed machines). */
  forgetHosts?: readonly string[];
}

export interface BootstrapResult {
  kubeconfigPath: string;
  context: string;
  server: string;
}

/** A host the run talks to: its inventory entry, connection, facts and plan. */
interface Target extends ServiceHost {
  host: InventoryHost;
  node?: NodeRuntime;
  plan?: HostPlan;
  inputsHash?: string;
}

/** Several hosts failed in one phase: every failure is listed, hosts that succeeded stay as they are. */
export class BootstrapError extends Error {
  constructor(readonly failures: StepError[]) {
    super(failures.map((f) => f.message).join('\n'));
  }
}

/**
 * One target after the other, stopping at the first failure: a rolling restart, where the next
 * host is touched only once the previous one is healthy again.
 */
async function hostByHost(targets: Target[], body: (t: Target) => Promise<void>): Promise<void> {
  for (const t of targets) {
    try {
      await body(t);
    } catch (err) {
      throw new BootstrapError([err instanceof StepError ? err : new StepError(t.name, '?', String((err as Error)?.message ?? err))]);
    }
  }
}

/** Runs `body` for every target at once; waits for all, then throws every failure together. */
async function eachHost(targets: Target[], body: (t: Target) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(targets.map(body));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof StepError ? r.reason : new StepError('*', '?', String((r.reason as Error)?.message ?? r.reason))] : []));
  if (failures.length > 0) throw new BootstrapError(failures);
}

/**
 * From reachable machines to a Ready cluster, step by step; every step checks what is there first,
 * so a second run changes nothing and a run that stopped half-way finishes on the next.
 */
export async function runBootstrap(inv: Inventory, options: BootstrapOptions): Promise<BootstrapResult> {
  const dir = clusterDir(inv.name);
  const step = (host: string, name: string, body: Parameters<typeof runStep>[3]): Promise<void> => runStep(options.onStep, host, name, body);
  const targets: Target[] = [];
  forgetPinnedKeys(inv, join(dir, 'known_hosts'), options);
  try {
    await eachHost(inv.hosts.map((h) => ({ host: h, name: h.name }) as Target), async (t) => {
      await step(t.name, 'connect', async () => {
        t.conn = await connectWhenUp(t.host, {
          connectTimeoutMs: options.connectTimeoutMs,
          waitMs: options.sshWaitMs,
          retryMs: options.sshRetryMs,
          onWaiting: (reason, elapsedMs, attempt) =>
            options.onStep({ host: t.name, step: 'connect', state: 'waiting', ms: elapsedMs, detail: `attempt ${attempt}: ${reason}; retrying` }),
          knownHosts: inv.knownHosts,
          pinnedHosts: join(dir, 'known_hosts'),
          onPinned: (c, host) => options.onNotice(`pinned the host key of ${host} (${c.hostId}) on first use: ${c.keyType} ${c.fingerprint}`),
        });
        targets.push(t);
        return { changed: false, detail: `${t.host.user}@${t.host.address}:${t.host.port}` };
      });
      await step(t.name, 'detect', async () => {
        t.facts = await detectHost(t.conn);
        t.root = t.facts.root;
        return { changed: false, detail: describeFacts(t.facts) };
      });
    });
    const bundle = options.bundle ?? (await buildBundle());
    let pki: ClusterPki | undefined;
    await step('*', 'pki', async () => {
      pki = ensureClusterPki(dir, inv, targets.filter((t) => t.host.role === 'master').map((t) => t.facts.hostname));
      return { changed: pki.written.length > 0, detail: `${join(dir, 'pki')}${pki.written.length > 0 ? ` (${pki.written.join(', ')})` : ''}` };
    });
    const cluster = pki as ClusterPki;
    const byRole = (role: string): Target[] => inv.hosts.filter((h) => h.role === role).map((h) => targets.find((t) => t.name === h.name) as Target);
    const masters = byRole('master');
    const shelf = options.nodeBuilds ?? new NodeBuildShelf({ registry: inv.nodeRegistry });
    await eachHost(targets, async (t) => {
      await step(t.name, 'node.js', async () => {
        const node = chooseNodeRuntime(t.name, t.facts, inv.node);
        t.node = node;
        if (node.kind === 'host') return { changed: false, detail: `${node.node} ${node.version} (the host's own)` };
        const changed = await installShippedNode(t, t.name, node, shelf);
        return { changed, detail: `${node.node} ${node.build.version} (${node.build.arch}, shipped)` };
      });
      await step(t.name, 'files', async () => {
        await checkStore(inv, t);
        t.plan = planHost({ inventory: inv, host: t.host, facts: t.facts, node: t.node as NodeRuntime, pki: cluster, bundle });
        t.inputsHash = sha256(t.plan.files.map((f) => `${f.path}\n${sha256(f.content)}`).join('\n'));
        const changed = await syncFiles(t, t.plan.files, 'lotse files');
        return { changed: changed.length > 0, detail: changed.length > 0 ? `${changed.length} of ${t.plan.files.length} files updated` : `${t.plan.files.length} files up to date` };
      });
    });
    if (inv.store === 'etcd') {
      await rolloutEtcd(masters, {
        cluster: inv.name,
        pki: cluster,
        step,
        startEtcd: (t, ready) => serviceStep(t as Target, 'etcd', options, ready),
        together: (ts, body) => eachHost(ts as Target[], body),
        inTurn: (ts, body) => hostByHost(ts as Target[], body),
        onNotice: options.onNotice,
      });
    }
    // A cluster bootstrapped before is upgraded in turn: one master, then one agent at a time,
    // each healthy again before the next, so the API and the nodes never all go down together.
    // Decided by what an earlier run left on the first master, not by probing its API, which a
    // busy machine may fail to answer in time (the upgrade would then restart everything at once).
    const rolling = (await masters[0].conn.exec(`test -f ${NODE_LAYOUT.stateDir}/master.sum`)).code === 0;
    const each = rolling ? hostByHost : eachHost;
    await each(masters, (t) => serviceStep(t, 'master', options, () => apiReady(t.conn, cluster)));
    // Agents first: flannel acts as its node with the credential the agent gets when it joins.
    await each(targets, (t) => serviceStep(t, 'agent', options, rolling ? agentRenewing(t, masters[0], cluster) : undefined));
    await eachHost(targets, (t) => serviceStep(t, 'flannel', options));
    await step('*', 'nodes ready', async () => {
      const names = inv.hosts.map((h) => h.name);
      let ready = new Set<string>();
      let allReadySince: number | undefined;
      await waitFor(`every node to be Ready (${names.join(', ')})`, options.readyTimeoutMs ?? 180_000, async () => {
        ready = await readyNodes(masters[0].conn, cluster);
        if (!names.every((n) => ready.has(n))) return (allReadySince = undefined);
        // A node that just registered can flip to Unknown until its first Lease lands: wait for Ready to hold.
        allReadySince ??= Date.now();
        return Date.now() - allReadySince >= READY_STABLE_MS ? true : undefined;
      }).catch(async (err: Error) => {
        const missing = targets.filter((t) => !ready.has(t.name));
        const logs = await Promise.all(missing.map(async (t) => `${t.name} agent log:\n${(await serviceLogTail(t, 'agent', 8)).replace(/^/gm, '  ')}`));
        throw new StepError('*', 'nodes ready', `${err.message}; not Ready: ${missing.map((t) => t.name).join(', ')}`, logs.join('\n'));
      });
      return { changed: false, detail: `${names.length} nodes Ready` };
    });
    const kubeconfigPath = options.kubeconfigPath ?? userKubeconfigPath();
    // The load balancer in front of the masters when there is one: the kubeconfig then survives losing any master.
    const balancer = apiEndpoint(inv);
    const server = balancer ? `https://${bracket(balancer.host)}:${balancer.port}` : `https://${bracket(masters[0].host.address)}:${NODE_LAYOUT.apiPort}`;
    await step('*', 'kubeconfig', async () => {
      const perMaster = !balancer && masters.length > 1 ? masters.map((m) => ({ name: m.host.name, server: `https://${bracket(m.host.address)}:${NODE_LAYOUT.apiPort}` })) : undefined;
      const backup = mergeAdminKubeconfig(kubeconfigPath, { name: inv.name, server, caPem: cluster.ca.certPem, token: cluster.tokens.admin, masters: perMaster });
      if (backup === undefined) return { changed: false, detail: `context ${inv.name} in ${kubeconfigPath}` };
      return { changed: true, detail: `context ${inv.name} in ${kubeconfigPath}${backup ? ` (previous file kept as ${backup})` : ''}` };
    });
    return { kubeconfigPath, context: inv.name, server };
  } finally {
    for (const t of targets) t.conn.close();
  }
}

/**
 * After a restart in a rolling upgrade: the node's Lease is renewed again, i.e. the new agent
 * joined with its stored credential and heartbeats (an unchanged agent is not waited for).
 */
function agentRenewing(t: Target, master: Target, cluster: ClusterPki): Ready {
  let before: string | undefined | null = null;
  return async (outcome) => {
    if (outcome === 'unchanged') return true;
    if (before === null) before = await leaseRenewTime(master.conn, cluster, t.name);
    const now = await leaseRenewTime(master.conn, cluster, t.name);
    return now !== undefined && now !== before ? true : undefined;
  };
}

/** Whether a service that was just ensured answers; told whether it was restarted. */
type Ready = (outcome: string) => Promise<true | undefined>;

/** Starts (or leaves alone) one service and waits until it answers; a failure carries its log tail. */
function serviceStep(t: Target, service: ServiceName, options: BootstrapOptions, ready?: Ready): Promise<void> {
  return runStep(options.onStep, t.name, service, async () => {
    const env = t.plan?.services.get(service);
    if (!env) return { changed: 'skipped' };
    const outcome = await ensureService(t, service, env, t.inputsHash ?? '');
    if (outcome === 'skipped') return { changed: 'skipped', detail: service === 'flannel' ? 'no flanneld and no flannel unit on this host; pods use the runtime network' : undefined };
    if (ready) {
      try {
        await waitFor(`${service} on ${t.name} to answer`, options.readyTimeoutMs ?? 180_000, () => ready(outcome));
      } catch (err) {
        throw new StepError(t.name, service, (err as Error).message, await serviceLogTail(t, service));
      }
    }
    return { changed: outcome !== 'unchanged', detail: outcome === 'unchanged' ? 'running' : outcome };
  });
}

/**
 * A master on SQLite needs node:sqlite (Node 22.13+, the Node 24 lotse ships) or else a
 * better-sqlite3 addon the host's Node.js can load; say so before starting it.
 */
async function checkStore(inv: Inventory, t: Target): Promise<void> {
  if (t.host.role !== 'master' || inv.store !== 'sqlite') return;
  const builtin = await t.conn.exec(`${t.node?.node ?? 'node'} -e 'try{process.exit(process.getBuiltinModule("node:sqlite")?0:1)}catch{process.exit(1)}' 2>&1`);
  if (builtin.code === 0) return;
  const missing = `store: sqlite needs Node.js 22.13+ (built-in node:sqlite) or the better-sqlite3 addon built for ${t.name} (${t.facts.arch}), and the lotse bundle carries no native code`;
  if (t.node?.kind !== 'host') throw new Error(`${missing}; the shipped ${t.node?.node ?? 'Node.js'} does not offer node:sqlite (a damaged install? run the bootstrap again) or use store: etcd in the inventory`);
  const probe = await t.conn.exec(`${t.node.node} -e "require(require.resolve('better-sqlite3', { paths: ['${NODE_LAYOUT.optDir}'] }))" 2>&1`);
  if (probe.code !== 0) {
    throw new Error(`${missing}: ${t.node.node} cannot load it (${errorLine(probe.stdout)}); install Node.js 22.13+ or better-sqlite3 where Node finds it (npm install -g better-sqlite3), or use store: etcd in the inventory`);
  }
}

/** The line of Node's output that says what went wrong (`Error: Cannot find module ...`). */
function errorLine(output: string): string {
  const lines = output.trim().split('\n');
  return (lines.find((l) => /^\w*Error\b/.test(l.trim())) ?? lines[0] ?? '').trim();
}

/** `--forget-host NAME`: the pinned key of a re-flashed machine goes, the next connection pins its new one. */
function forgetPinnedKeys(inv: Inventory, pinnedHosts: string, options: BootstrapOptions): void {
  for (const name of options.forgetHosts ?? []) {
    const host = inv.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`--forget-host ${name}: no such host in the inventory (hosts: ${inv.hosts.map((h) => h.name).join(', ')})`);
    if (inv.knownHosts) throw new Error(`--forget-host ${name}: host keys are checked against ${inv.knownHosts} (knownHosts in the inventory), not pinned by lotse; remove the old key there (ssh-keygen -f ${inv.knownHosts} -R ${host.address})`);
    const id = hostId(host.address, host.port);
    const removed = forgetHostKey(pinnedHosts, id);
    options.onNotice(removed > 0 ? `forgot the pinned host key of ${name} (${id}); its new key is pinned on first use` : `no pinned host key of ${name} (${id}) to forget`);
  }
}

function bracket(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

