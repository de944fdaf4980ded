import type { Event, Node } from 'kubernetes-types/core/v1';
import { parseSubnetEnv } from '../../../agent/network/flannel';
import { KubeClient } from '../../../kube/client';
import { core } from '../../../kube/resource-path';
import { startControllerManager, type RunningControllerManager } from '../../../master/controllers/controller-manager';
import { POD_CIDR_CLAIMS } from '../../../master/controllers/master-controllers';
import { CidrSet } from '../../../master/controllers/node-ipam/cidr-set';
import { KeyClaims } from '../../../master/store/key-claims';
import { flannelSubnetEnv } from '../../support/flannel-subnet-consumer';
import { rawRequest } from '../../support/https-raw';
import { startTestMaster, type TestMaster } from '../../support/master';
import { waitFor } from './cluster';

jest.setTimeout(90_000);

// Four /24 blocks, so exhaustion and reuse are reachable with a handful of nodes.
const NETWORK = '10.250.0.0/22';
let m: TestMaster;
let admin: KubeClient;
const managers: { cm: RunningControllerManager; client: KubeClient }[] = [];
const tokens = new Map<string, string>();

beforeAll(async () => {
  m = await startTestMaster({ store: 'sqlite' });
  admin = new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken });
});
afterAll(async () => {
  for (const x of managers) {
    await x.cm.stop().catch(() => undefined);
    x.client.close();
  }
  admin?.close();
  await m?.stop();
});

async function startManager(identity: string): Promise<RunningControllerManager> {
  const client = new KubeClient({ server: m.url, ca: m.caPem, token: m.adminToken });
  const cm = await startControllerManager({
    client,
    identity,
    controllers: ['node-ipam'],
    nodeIpam: { clusterCidr: NETWORK, nodeCidrMaskSize: 24, claims: new KeyClaims(m.store, POD_CIDR_CLAIMS) },
  });
  managers.push({ cm, client });
  return cm;
}

async function stopManagers(): Promise<void> {
  for (const x of managers.splice(0)) {
    await x.cm.stop();
    x.client.close();
  }
}

/** Joins as the agent does and registers the Node with the node's own credential. */
async function register(name: string): Promise<void> {
  const joined = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: name, addresses: ['127.0.0.1'] }) });
  expect(joined.status).toBe(201);
  const token = (JSON.parse(joined.body) as { token: string }).token;
  tokens.set(name, token);
  const created = await rawRequest(m.url, m.caPem, 'POST', '/api/v1/nodes', { token, body: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name } }), headers: { 'content-type': 'application/json' } });
  expect(created.status).toBe(201);
}

const podCidrOf = async (name: string): Promise<string | undefined> => (await admin.get<Node>(core('nodes', undefined, name))).spec?.podCIDR;

test('every Node gets its own block, which flannel reads with the node credential', async () => {
  await startManager('a');
  // Two managers at once (as two masters would be, without leader election): the store claims
  // keep them from handing out one block twice.
  await startManager('b');
  await Promise.all(['ipam-1', 'ipam-2', 'ipam-3'].map(register));
  const cidrs = await Promise.all(['ipam-1', 'ipam-2', 'ipam-3'].map((n) => waitFor(`${n} podCIDR`, () => podCidrOf(n))));
  expect(new Set(cidrs).size).toBe(3);
  const set = new CidrSet(NETWORK, 24);
  for (const cidr of cidrs) expect(set.indexOf(cidr)).toBeDefined();
  const node = await admin.get<Node>(core('nodes', undefined, 'ipam-2'));
  expect(node.spec?.podCIDRs).toEqual([node.spec?.podCIDR]);

  const env = await flannelSubnetEnv({ server: m.url, caPem: m.caPem, token: tokens.get('ipam-2') ?? '', nodeName: 'ipam-2', network: NETWORK, publicIp: '192.0.2.2', timeoutMs: 10_000 });
  const subnet = parseSubnetEnv(env);
  expect(subnet.subnet).toBe(cidrs[1]);
  expect((await admin.get<Node>(core('nodes', undefined, 'ipam-2'))).metadata?.annotations?.['flannel.alpha.coreos.com/public-ip']).toBe('192.0.2.2');
  // One claim per node in the store, owned by it.
  const claims = await new KeyClaims(m.store, POD_CIDR_CLAIMS).list();
  expect(claims.map((c) => c.owner).sort()).toEqual(['ipam-1', 'ipam-2', 'ipam-3']);
});

test('a full range leaves a Node waiting with a CIDRNotAvailable event; a deleted Node frees its block for it', async () => {
  await register('ipam-4');
  await waitFor('ipam-4 podCIDR', () => podCidrOf('ipam-4'));
  await register('ipam-5');
  const events = await waitFor('CIDRNotAvailable event', async () =>
    (await admin.list<Event>(core('events', 'default'))).items.find((e) => e.involvedObject?.name === 'ipam-5' && e.reason === 'CIDRNotAvailable'),
  );
  expect(events.message).toContain(`no pod CIDR left in ${NETWORK}`);
  expect(await podCidrOf('ipam-5')).toBeUndefined();

  const freed = await podCidrOf('ipam-2');
  await admin.delete(core('nodes', undefined, 'ipam-2'));
  // At once, not after ipam-5's retry back-off (up to 30 s).
  expect(await waitFor('ipam-5 gets the freed block', () => podCidrOf('ipam-5'), 5_000)).toBe(freed);
});

test('after a restart existing blocks are kept and claimed, and a Node deleted meanwhile is released', async () => {
  const before = new Map(await Promise.all(['ipam-1', 'ipam-3', 'ipam-4', 'ipam-5'].map(async (n) => [n, await podCidrOf(n)] as const)));
  await stopManagers();
  const claims = new KeyClaims(m.store, POD_CIDR_CLAIMS);
  // While no manager runs: a claim is lost (as if written by an older master without it) and a Node goes.
  await claims.release((before.get('ipam-1') ?? '').replace('/', '-'));
  await admin.delete(core('nodes', undefined, 'ipam-4'));
  await startManager('c');
  await waitFor('the claims match the Nodes again', async () => {
    const owners = (await claims.list()).map((c) => `${c.owner}=${c.name}`).sort();
    return owners.join(' ') === ['ipam-1', 'ipam-3', 'ipam-5'].map((n) => `${n}=${(before.get(n) ?? '').replace('/', '-')}`).sort().join(' ');
  });
  for (const n of ['ipam-1', 'ipam-3', 'ipam-5']) expect(await podCidrOf(n)).toBe(before.get(n));
  await register('ipam-6');
  expect(await waitFor('ipam-6 podCIDR', () => podCidrOf('ipam-6'))).toBe(before.get('ipam-4'));
});

test('the cluster CIDR and mask are checked with a message that names the fix', () => {
  expect(() => new CidrSet('10.244.0.1/16', 24)).toThrow(/host bits set; did you mean 10\.244\.0\.0\/16/);
  expect(() => new CidrSet('10.244.0.0/16', 12)).toThrow(/--node-cidr-mask-size 12 does not fit --cluster-cidr 10\.244\.0\.0\/16/);
  expect(() => new CidrSet('10.0.0.0/8', 28)).toThrow(/more than 65536 node subnets/);
  expect(() => new CidrSet('fd00::/64', 80)).toThrow(/not an IPv4 CIDR/);
  const set = new CidrSet('10.244.0.0/16', 24);
  expect([set.count, set.subnet(0), set.subnet(255), set.indexOf('10.244.7.0/24'), set.indexOf('10.245.0.0/24'), set.indexOf('10.244.7.0/25')]).toEqual([256, '10.244.0.0/24', '10.244.255.0/24', 7, undefined, undefined]);
});
