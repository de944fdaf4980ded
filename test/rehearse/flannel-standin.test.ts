import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1';
import { stringify } from 'yaml';
import { core } from '../../kube/resource-path';
import { masterControllers } from '../../master/controllers/master-controllers';
import { buildBundle } from '../../payload/lotse-bundle';
import { parseFlanneldFlags } from '../../rehearse/flannel-standin/flanneld-flags';
import { parseNetConf } from '../../rehearse/flannel-standin/net-conf';
import { rawRequest } from '../support/https-raw';
import { waitFor } from '../../bootstrap/tunnel-http';
import { startTestMaster, type TestMaster } from '../support/master';

/**
 * Two flanneld stand-ins (`lotse flanneld-standin`, run from the lotse.js bundle) in two network
 * namespaces on one bridge, each with its own node credential from POST /lotse/v1/join, against
 * a real master whose node IPAM hands out the podCIDRs. What flanneld --kube-subnet-mgr with the
 * vxlan backend would leave behind is read back from the kernel and the API: subnet.env, the
 * flannel.1 device, the Node annotations, each side's fdb/neighbour/route for the other, pings
 * across the VXLAN, a restart that keeps the device and sweeps stale entries, and a deleted Node
 * whose entries disappear. Needs root, iproute2, nft and busybox (ping).
 */
jest.setTimeout(60_000);

const NETWORK = '10.244.0.0/16';
const DEVICE = 'flannel.1';

interface Side {
  node: string;
  netns: string;
  address: string;
  dir: string;
  token: string;
  flags: string[];
  child?: ChildProcess;
  exited?: Promise<number | null>;
  output: string;
}

interface LinkJson {
  address: string;
  mtu: number;
  flags: string[];
  linkinfo?: { info_kind: string; info_data: { id: number; local: string; link?: string; port: number; learning: boolean } };
  addr_info?: { family: string; local: string; prefixlen: number }[];
  stats64?: { rx: { packets: number }; tx: { packets: number } };
}

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
const quiet = (cmd: string, args: string[]): void => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // cleanup of something already gone
  }
};
const inNs = (side: Side, argv: string[]): string => sh('ip', ['netns', 'exec', side.netns, ...argv]);
const nsJson = <T>(side: Side, argv: string[]): T[] => {
  const text = inNs(side, argv).trim();
  return text ? (JSON.parse(text) as T[]) : [];
};
const link = (side: Side, ...extra: string[]): LinkJson => nsJson<LinkJson>(side, ['ip', '-j', ...extra, 'link', 'show', 'dev', DEVICE])[0];
const pings = (side: Side, args: string[]): boolean => {
  try {
    inNs(side, ['busybox', 'ping', '-c', '2', '-W', '2', ...args]);
    return true;
  } catch {
    return false;
  }
};

let id: string;
let base: string;
let bridge: string;
let lan: string;
let m: TestMaster;
let bundlePath: string;
const sides: Side[] = [];

function freeLan(): string {
  const used = sh('ip', ['-4', '-o', 'addr']);
  for (let i = 0; i < 50; i += 1) {
    const n = 1 + Math.floor(Math.random() * 250);
    if (!used.includes(`10.215.${n}.`)) return `10.215.${n}`;
  }
  throw new Error('no free 10.215.N.0/24 for the test hosts');
}

function addNamespace(netns: string, address: string, index: number): void {
  const veth = `vf${id}${index}`;
  sh('ip', ['netns', 'add', netns]);
  sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  sh('ip', ['link', 'set', veth, 'master', bridge, 'up']);
  sh('ip', ['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  sh('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
  sh('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  // The stand-in without --iface takes the default route's interface, as flanneld does.
  sh('ip', ['-n', netns, 'route', 'add', 'default', 'via', `${lan}.1`]);
}

/** Joins as an agent does, and registers the Node with that node credential. */
async function joinNode(name: string, address: string): Promise<string> {
  const joined = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: name, addresses: [address] }) });
  if (joined.status !== 201) throw new Error(`join of ${name} answered ${joined.status}: ${joined.body}`);
  const token = (JSON.parse(joined.body) as { token: string }).token;
  const created = await rawRequest(m.url, m.caPem, 'POST', '/api/v1/nodes', { token, body: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name } }) });
  if (created.status !== 201) throw new Error(`creating Node ${name} answered ${created.status}: ${created.body}`);
  return token;
}

function kubeconfig(user: Record<string, string>, cluster: Record<string, string>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lotse', cluster: { server: m.url, ...cluster } }],
    users: [{ name: 'node', user }],
    contexts: [{ name: 'lotse', context: { cluster: 'lotse', user: 'node' } }],
    'current-context': 'lotse',
  });
}

function start(side: Side): void {
  side.output = '';
  const child = spawn('ip', ['netns', 'exec', side.netns, process.execPath, bundlePath, 'flanneld-standin', ...side.flags], {
    env: { PATH: process.env.PATH, HOME: side.dir, NODE_NAME: side.node },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (side.output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (side.output += d.toString()));
  side.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  side.child = child;
}

const logs = (): string => sides.map((s) => `--- ${s.node} ---\n${s.output}`).join('\n');

/** Polls until probe returns a value; a timeout fails with both stand-ins' logs. */
function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  return waitFor(what, timeoutMs, async () => probe(), 200).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs()}`);
  });
}

const getNode = (name: string): Promise<Node> => m.client.get<Node>(core('nodes', undefined, name));
const podCidr = async (side: Side): Promise<string> => eventually(`${side.node}'s podCIDR`, async () => (await getNode(side.node)).spec?.podCIDR);
const networkAddress = (cidr: string): string => cidr.split('/')[0];
const firstHost = (cidr: string): string => {
  const [addr, bits] = cidr.split('/');
  const o = addr.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.${o[3] + 1}/${bits}`;
};

/** The three entries that make `peer` reachable from `side`, or undefined while any is missing. */
function peerEntries(side: Side, peerMac: string, peerAddress: string, peerCidr: string): string | undefined {
  const gw = networkAddress(peerCidr);
  const fdb = nsJson<{ mac: string; dst?: string; state?: string }>(side, ['bridge', '-j', 'fdb', 'show', 'dev', DEVICE]).some((e) => e.mac === peerMac && e.dst === peerAddress && e.state === 'permanent');
  const neigh = nsJson<{ dst: string; lladdr?: string; state?: string[] }>(side, ['ip', '-j', 'neigh', 'show', 'dev', DEVICE]).some((n) => n.dst === gw && n.lladdr === peerMac && n.state?.includes('PERMANENT'));
  const route = nsJson<{ dst: string; gateway?: string; flags?: string[] }>(side, ['ip', '-j', 'route', 'show', 'dev', DEVICE]).some((r) => r.dst === peerCidr && r.gateway === gw && r.flags?.includes('onlink'));
  return fdb && neigh && route ? 'present' : undefined;
}

/** True once none of the entries for that MAC, address or subnet is left on `side`. */
function noEntries(side: Side, mac: string, address: string, cidr: string): boolean {
  const fdb = nsJson<{ mac: string; dst?: string }>(side, ['bridge', '-j', 'fdb', 'show', 'dev', DEVICE]).filter((e) => e.mac === mac || e.dst === address);
  const neigh = nsJson<{ dst: string }>(side, ['ip', '-j', 'neigh', 'show', 'dev', DEVICE]).filter((n) => n.dst === networkAddress(cidr));
  const route = nsJson<{ dst: string }>(side, ['ip', '-j', 'route', 'show', 'dev', DEVICE]).filter((r) => r.dst === cidr);
  return fdb.length + neigh.length + route.length === 0;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this suite needs root (network namespaces, vxlan devices)');
  id = randomBytes(3).toString('hex');
  base = mkdtempSync(join(tmpdir(), `lotse-flannel-standin-${id}-`));
  bridge = `lfb${id}`;
  lan = freeLan();
  sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
  sh('ip', ['addr', 'add', `${lan}.1/24`, 'dev', bridge]);
  sh('ip', ['link', 'set', bridge, 'up']);
  for (const [i, node] of ['fs-a', 'fs-b'].entries()) {
    const side: Side = { node, netns: `lotse-fs-${id}-${i}`, address: `${lan}.${10 + i}`, dir: join(base, node), token: '', flags: [], output: '' };
    sides.push(side);
    mkdirSync(side.dir, { recursive: true });
    addNamespace(side.netns, side.address, i);
  }
  // Listening on the bridge address: the stand-ins reach the master from their namespaces.
  m = await startTestMaster({
    store: 'sqlite',
    master: { listen: `${lan}.1:0` },
    controllers: masterControllers({ controllers: ['node-ipam'] }, { clusterCidr: NETWORK, nodeCidrMaskSize: 24 }),
  });
  bundlePath = (await buildBundle(join(base, 'lotse.js'))).path;
  for (const side of sides) side.token = await joinNode(side.node, side.address);

  const [a, b] = sides;
  writeFileSync(join(a.dir, 'ca.crt'), m.caPem);
  writeFileSync(join(a.dir, 'kubeconfig'), kubeconfig({ token: a.token }, { 'certificate-authority': 'ca.crt' }));
  writeFileSync(join(a.dir, 'net-conf.json'), JSON.stringify({ Network: NETWORK, Backend: { Type: 'vxlan' } }));
  a.flags = ['--kube-subnet-mgr', `--kubeconfig-file=${join(a.dir, 'kubeconfig')}`, '--subnet-file', join(a.dir, 'run', 'subnet.env'), `--net-config-path=${join(a.dir, 'net-conf.json')}`, '--ip-masq', '--iface', 'eth0'];
  // B starts with a token file holding a wrong token, replaced once it is running: the stand-in
  // must read the file again rather than keep what it read at start.
  writeFileSync(join(b.dir, 'token'), 'not-a-valid-token\n');
  writeFileSync(join(b.dir, 'kubeconfig'), kubeconfig({ tokenFile: join(b.dir, 'token') }, { 'certificate-authority-data': Buffer.from(m.caPem).toString('base64') }));
  writeFileSync(join(b.dir, 'net-conf.json'), JSON.stringify({ Network: NETWORK, Backend: { Type: 'vxlan', VNI: 1, Port: 8472 } }));
  b.flags = ['-kube-subnet-mgr', '--kubeconfig-file', join(b.dir, 'kubeconfig'), `--subnet-file=${join(b.dir, 'run', 'subnet.env')}`, '--net-config-path', join(b.dir, 'net-conf.json'), '--kube-api-url=https://ignored.invalid:6443'];
  for (const side of sides) start(side);
  await eventually('fs-b to be refused with its first token', () => (/401|nauthorized/.test(b.output) ? true : undefined));
  writeFileSync(join(b.dir, 'token'), `${b.token}\n`);
  for (const side of sides) await eventually(`${side.node}'s subnet.env`, () => (readSafe(join(side.dir, 'run', 'subnet.env')) ? true : undefined));
});

function readSafe(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

afterAll(async () => {
  for (const side of sides) side.child?.kill('SIGKILL');
  for (const side of sides) {
    let pids: string[] = [];
    try {
      pids = sh('ip', ['netns', 'pids', side.netns]).split('\n').filter(Boolean);
    } catch {
      // namespace never made
    }
    for (const pid of pids) quiet('kill', ['-KILL', pid]);
  }
  // Before the bridge goes: the master's own controllers reach it at the bridge address.
  await m?.stop();
  for (const side of sides) quiet('ip', ['netns', 'del', side.netns]);
  if (bridge) quiet('ip', ['link', 'del', bridge]);
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('flags and net-conf.json, as flanneld reads them', () => {
  const kubeconfigFlag = '--kubeconfig-file=/k';
  it('takes --flag=value and --flag value, booleans alone, --iface repeated', () => {
    expect(parseFlanneldFlags(['--kube-subnet-mgr', kubeconfigFlag, '--iface', 'eth1', '--iface=10.0.0.1', '-ip-masq', '--public-ip', '192.0.2.9', '--kube-api-url=https://x'])).toEqual({
      kubeconfigFile: '/k', subnetFile: '/run/flannel/subnet.env', netConfPath: '/etc/kube-flannel/net-conf.json', ifaces: ['eth1', '10.0.0.1'], publicIp: '192.0.2.9', ipMasq: true, setNodeNetworkUnavailable: true,
    });
  });
  it('reads a flag not on the command line from FLANNELD_<FLAG>, as the unit passes FLANNELD_IFACE', () => {
    const env = { FLANNELD_IFACE: '10.0.0.7', FLANNELD_IP_MASQ: 'true', FLANNELD_SUBNET_FILE: '/x/subnet.env' };
    expect(parseFlanneldFlags(['--kube-subnet-mgr', kubeconfigFlag, '--subnet-file=/cli/subnet.env'], env)).toMatchObject({ ifaces: ['10.0.0.7'], ipMasq: true, subnetFile: '/cli/subnet.env' });
    expect(() => parseFlanneldFlags(['--kube-subnet-mgr', kubeconfigFlag], { FLANNELD_IP_MASQ: 'maybe' })).toThrow(/FLANNELD_IP_MASQ is a boolean/);
  });
  it('refuses what is not stood in, naming it', () => {
    expect(() => parseFlanneldFlags([kubeconfigFlag])).toThrow(/only kube-subnet-mgr mode is stood in/);
    expect(() => parseFlanneldFlags(['--kube-subnet-mgr', kubeconfigFlag, '--etcd-endpoints=http://x'])).toThrow(/unknown flag --etcd-endpoints/);
    expect(() => parseFlanneldFlags(['--kube-subnet-mgr'])).toThrow(/--kubeconfig-file/);
    expect(() => parseFlanneldFlags(['--kube-subnet-mgr', kubeconfigFlag, '--iface'])).toThrow(/--iface needs a value/);
    expect(() => parseFlanneldFlags(['--kube-subnet-mgr', kubeconfigFlag, 'extra'])).toThrow(/no arguments/);
  });
  it('accepts only the vxlan backend, defaulting VNI 1 and port 8472', () => {
    expect(parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}', 'nc')).toMatchObject({ network: { text: '10.244.0.0/16' }, vni: 1, port: 8472 });
    expect(parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":4,"Port":4789}}', 'nc')).toMatchObject({ vni: 4, port: 4789 });
    expect(() => parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}', 'nc')).toThrow(/"host-gw" is not stood in/);
    expect(() => parseNetConf('{"Network":"10.244.0.0/16"}', 'nc')).toThrow(/udp/);
    expect(() => parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","DirectRouting":true}}', 'nc')).toThrow(/DirectRouting/);
    expect(() => parseNetConf('{"Backend":{"Type":"vxlan"}}', 'nc')).toThrow(/no "Network"/);
  });
});

test("each subnet.env is flanneld's, for its Node's podCIDR", async () => {
  for (const side of sides) {
    const cidr = await podCidr(side);
    const masq = side.node === 'fs-a';
    expect(readFileSync(join(side.dir, 'run', 'subnet.env'), 'utf8')).toBe(`FLANNEL_NETWORK=${NETWORK}\nFLANNEL_SUBNET=${firstHost(cidr)}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=${masq}\n`);
  }
  expect(sides[1].output).toMatch(/reading Node fs-b failed.*(401|nauthorized)/);
});

test('flannel.1 is a VXLAN device with VNI 1, port 8472, the node address as local and the podCIDR network address', async () => {
  for (const side of sides) {
    const dev = link(side, '-d');
    expect(dev.linkinfo?.info_kind).toBe('vxlan');
    expect(dev.linkinfo?.info_data).toMatchObject({ id: 1, local: side.address, port: 8472, learning: false, link: 'eth0' });
    expect(dev.mtu).toBe(1450);
    expect(dev.flags).toContain('UP');
    const addrs = nsJson<LinkJson>(side, ['ip', '-j', '-4', 'addr', 'show', 'dev', DEVICE])[0].addr_info ?? [];
    expect(addrs.map((x) => `${x.local}/${x.prefixlen}`)).toEqual([`${networkAddress(await podCidr(side))}/32`]);
  }
});

test("each Node carries flannel's four annotations with the device's real MAC, and NetworkUnavailable=False", async () => {
  for (const side of sides) {
    const mac = link(side).address;
    const node = await getNode(side.node);
    expect(node.metadata?.annotations).toMatchObject({
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/backend-data': `{"VNI":1,"VtepMAC":"${mac}"}`,
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      'flannel.alpha.coreos.com/public-ip': side.address,
    });
    expect(node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable')).toMatchObject({ status: 'False', reason: 'FlannelIsUp' });
    // Published through nodes/NAME/status, which the node credential may patch.
    expect(side.output).not.toContain('patching the Node itself');
  }
});

test('each side has the fdb entry, neighbour and onlink route for the other, and pings cross the VXLAN', async () => {
  const [a, b] = sides;
  const [cidrA, cidrB] = [await podCidr(a), await podCidr(b)];
  await eventually('fs-a to have fs-b as a peer', () => peerEntries(a, link(b).address, b.address, cidrB));
  await eventually('fs-b to have fs-a as a peer', () => peerEntries(b, link(a).address, a.address, cidrA));

  const rxBefore = link(b, '-s').stats64?.rx.packets ?? 0;
  expect(pings(a, [networkAddress(cidrB)])).toBe(true);
  expect((link(b, '-s').stats64?.rx.packets ?? 0) - rxBefore).toBeGreaterThanOrEqual(2);

  // A pod address on each side (where the agent's pod bridge would hold FLANNEL_SUBNET).
  for (const [side, cidr] of [[a, cidrA], [b, cidrB]] as const) {
    inNs(side, ['ip', 'link', 'add', 'pods0', 'type', 'veth', 'peer', 'name', 'pods1']);
    inNs(side, ['ip', 'addr', 'add', firstHost(cidr), 'dev', 'pods0']);
    inNs(side, ['ip', 'link', 'set', 'pods0', 'up']);
    inNs(side, ['ip', 'link', 'set', 'pods1', 'up']);
  }
  const podA = firstHost(cidrA).split('/')[0];
  const podB = firstHost(cidrB).split('/')[0];
  expect(pings(b, ['-I', podB, podA])).toBe(true);
});

test('--ip-masq installs the lotse-flannel nft table only where it was given', () => {
  const [a, b] = sides;
  const table = inNs(a, ['nft', 'list', 'table', 'ip', 'lotse-flannel']);
  expect(table).toContain(`ip saddr ${NETWORK} ip daddr ${NETWORK} return`);
  expect(table).toMatch(/masquerade/);
  expect(() => inNs(b, ['nft', 'list', 'table', 'ip', 'lotse-flannel'])).toThrow();
});

test('a restart keeps the device and its MAC, removes stale entries and the masquerading on stop', async () => {
  const [a, b] = sides;
  const macBefore = link(a).address;
  // What a Node deleted while the stand-in was down would leave behind.
  inNs(a, ['ip', 'neigh', 'replace', '10.244.250.0', 'lladdr', '0a:0b:0c:0d:0e:0f', 'dev', DEVICE, 'nud', 'permanent']);
  inNs(a, ['bridge', 'fdb', 'append', '0a:0b:0c:0d:0e:0f', 'dev', DEVICE, 'dst', `${lan}.99`, 'self', 'permanent']);
  inNs(a, ['ip', 'route', 'replace', '10.244.250.0/24', 'via', '10.244.250.0', 'dev', DEVICE, 'onlink']);

  a.child?.kill('SIGTERM');
  const code = await Promise.race([a.exited, new Promise<string>((r) => setTimeout(() => r('still running 5 s after SIGTERM'), 5000))]);
  expect(code).toBe(0);
  expect(() => inNs(a, ['nft', 'list', 'table', 'ip', 'lotse-flannel'])).toThrow();

  start(a);
  await eventually('the stale entries to be swept', () => (noEntries(a, '0a:0b:0c:0d:0e:0f', `${lan}.99`, '10.244.250.0/24') ? true : undefined));
  await eventually('fs-a to run again', () => (/wrote .*subnet\.env/.test(a.output) ? true : undefined));
  expect(a.output).not.toContain('re-creating');
  expect(link(a).address).toBe(macBefore);
  expect(peerEntries(a, link(b).address, b.address, await podCidr(b))).toBe('present');
  expect(pings(a, [networkAddress(await podCidr(b))])).toBe(true);
});

test("a Node whose VTEP MAC and public IP change gets its entries replaced on the other side", async () => {
  const [a, b] = sides;
  const cidrB = await podCidr(b);
  const before = (await getNode(b.node)).metadata?.annotations ?? {};
  const moved = { 'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"0a:58:0a:f4:63:01"}', 'flannel.alpha.coreos.com/public-ip': `${lan}.77` };
  await m.client.patch(core('nodes', undefined, b.node), 'merge', { metadata: { annotations: moved } });
  await eventually('fs-a to follow the moved VTEP', () => peerEntries(a, '0a:58:0a:f4:63:01', `${lan}.77`, cidrB));
  expect(nsJson<{ mac: string }>(a, ['bridge', '-j', 'fdb', 'show', 'dev', DEVICE]).filter((e) => e.mac === link(b).address)).toEqual([]);
  await m.client.patch(core('nodes', undefined, b.node), 'merge', { metadata: { annotations: { 'flannel.alpha.coreos.com/backend-data': before['flannel.alpha.coreos.com/backend-data'], 'flannel.alpha.coreos.com/public-ip': before['flannel.alpha.coreos.com/public-ip'] } } });
  await eventually('fs-a to have fs-b back', () => peerEntries(a, link(b).address, b.address, cidrB));
  expect(noEntries(a, '0a:58:0a:f4:63:01', `${lan}.77`, '10.244.251.0/24')).toBe(true);
});

test("a deleted Node's entries disappear from the other side", async () => {
  const [a, b] = sides;
  const [macB, cidrB] = [link(b).address, await podCidr(b)];
  b.child?.kill('SIGTERM');
  await m.client.delete(core('nodes', undefined, b.node));
  await eventually("fs-b's entries to leave fs-a", () => (noEntries(a, macB, b.address, cidrB) ? true : undefined));
  expect(a.output).toMatch(/peer fs-b: removed/);
  expect(pings(a, [networkAddress(cidrB)])).toBe(false);
});
