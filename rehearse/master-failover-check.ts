import type { HostRecord } from './host-machine';
import { powerOff, powerOn } from './rehearsal-hosts';
import type { RehearsalState } from './rehearsal-state';
import type { Kubectl } from './smoke-kubectl';
import { waitFor } from '../bootstrap/tunnel-http';

const LEASE = ['-n', 'kube-system', 'get', 'lease', 'lotse-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}'];
const NS = 'lotse-smoke';
/** Issue 21's bound: another master leads within 15 s of losing the leader. */
const TAKEOVER_LIMIT_MS = 15_000;
const WRITES = 20;

/** kubectl through one master (the rehearsal has no load balancer; clients move between masters). */
const via = (k: Kubectl, master: HostRecord): Kubectl => (args, input) => k(['--server', `https://${master.address}:6443`, ...args], input);

/**
 * The control plane survives losing its leading master: the host whose master holds the
 * controllers' Lease is powered off; through another master, a new holder must take the Lease
 * within 15 s, every write acknowledged before stays, a Deployment scaled during the outage
 * converges; powered on again, the master answers /readyz and its node is Ready.
 */
export async function masterFailover(k: Kubectl, state: RehearsalState, image: string, waitMs: number): Promise<string> {
  const masters = state.hosts.filter((h) => h.role === 'master');
  const holder = await k(LEASE);
  const leader = masters.find((m) => holder.startsWith(`${m.name}_`));
  if (!leader) throw new Error(`the Lease holder "${holder}" is none of the masters (${masters.map((m) => m.name).join(', ')})`);
  const other = via(k, masters.find((m) => m !== leader) as HostRecord);
  for (let i = 0; i < WRITES; i += 1) await k(['create', 'configmap', `ha-before-${i}`, '-n', NS, `--from-literal=i=${i}`]);
  await k(['create', 'deployment', 'smoke-ha', '-n', NS, `--image=${image}`, '--replicas=1', '--', '/bin/hello']);
  await powerOff(state, leader.name);
  const off = Date.now();
  const newHolder = await waitFor('new holder of the controllers\' Lease', waitMs, async () => {
    const h = await other(LEASE);
    return h && !h.startsWith(`${leader.name}_`) ? h : undefined;
  }, 500);
  const takeoverMs = Date.now() - off;
  if (takeoverMs > TAKEOVER_LIMIT_MS) throw new Error(`${newHolder} took the Lease ${Math.round(takeoverMs / 1000)} s after ${leader.name} went off (limit 15 s)`);
  await other(['scale', 'deployment', 'smoke-ha', '-n', NS, '--replicas=3']);
  await waitFor('smoke-ha scaled to 3 Ready pods during the outage', waitMs, async () => ((await other(['get', 'deployment', 'smoke-ha', '-n', NS, '-o', 'jsonpath={.status.readyReplicas}'])) === '3' ? true : undefined));
  const kept = (await other(['get', 'configmaps', '-n', NS, '-o', 'name'])).split('\n').filter((n) => n.startsWith('configmap/ha-before-')).length;
  if (kept !== WRITES) throw new Error(`${kept} of ${WRITES} ConfigMaps written before the outage are left`);
  const boot = await powerOn(state, leader.name);
  await waitFor(`${leader.name}'s API ready again`, waitMs, async () => ((await via(k, leader)(['get', '--raw', '/readyz'])) === 'ok' ? true : undefined));
  await waitFor(`node ${leader.name} Ready again`, waitMs, async () => ((await other(['get', 'node', leader.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True' ? true : undefined));
  return `${leader.name} (leader) powered off; ${newHolder.split('_')[0]} led after ${(takeoverMs / 1000).toFixed(1)} s; ${WRITES}/${WRITES} earlier writes kept; smoke-ha scaled 1→3 during the outage; ${leader.name} back (${boot.state}), /readyz ok and Ready`;
}
