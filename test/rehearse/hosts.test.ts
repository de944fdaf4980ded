import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateConfig } from '../../stacks/config/validate';
import { run } from '../../rehearse/command-runner';
import { ensureHostImage } from '../../rehearse/host-image';
import { hostExec, hostPaths, type HostRecord } from '../../rehearse/host-machine';
import { bootStack, hostStatuses, powerOff, powerOn, tearDown } from '../../rehearse/rehearsal-hosts';
import { loadState, type RehearsalState } from '../../rehearse/rehearsal-state';
import { rehearsalIdentity } from '../../rehearse/ssh-identity';
import { synthesizeMachines, type StackMachine } from '../../rehearse/stack-machines';
import { programOverlay } from '../../rehearse/vxlan-overlay';

/**
 * One rehearsal of the gce stack (1 master + 2 workers from the committed example): the host
 * image, hosts booted from their own Ignition by the upstream binary, SSH with the Ignition key,
 * power off/on, and flannel's vxlan mesh between the hosts. The full `lotse rehearse` (bootstrap
 * and smoke checks) is not here yet: it fails on the issue-13 defects listed in docs/rehearse.md.
 */
const STACK = 'gce';
const REPO = join(__dirname, '..', '..');
jest.setTimeout(600000);

let machines: StackMachine[];
let state: RehearsalState;
let identity: { privateKeyFile: string; publicKey: string };
const log: string[] = [];

function ssh(host: HostRecord, command: string, key = identity.privateKeyFile) {
  return run(['ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', `core@${host.address}`, command], { allowFailure: true, timeoutMs: 20000 });
}

/** The decoded contents of a file an Ignition config writes. */
function ignitionFile(config: string, path: string): string {
  const parsed = JSON.parse(config) as { storage: { files: Array<{ path: string; contents: { source: string } }> } };
  const source = parsed.storage.files.find((f) => f.path === path)?.contents.source ?? '';
  const comma = source.indexOf(',');
  return source.slice(5, comma).endsWith(';base64') ? Buffer.from(source.slice(comma + 1), 'base64').toString() : decodeURIComponent(source.slice(comma + 1));
}

beforeAll(async () => {
  identity = await rehearsalIdentity(STACK);
  const raw = parse(readFileSync(join(REPO, 'cluster.example.yaml'), 'utf8')) as Record<string, unknown>;
  raw.sshAuthorizedKeys = [...(raw.sshAuthorizedKeys as string[]), identity.publicKey];
  const dir = mkdtempSync(join(tmpdir(), 'lotse-rehearse-test-'));
  machines = synthesizeMachines(validateConfig(raw, 'cluster.example.yaml'), STACK, join(dir, 'cdktf.out'), dir);
  state = await bootStack(STACK, machines, { outputsFile: '', identityFile: identity.privateKeyFile }, (h, s, d) => log.push(`${h} ${s} ${d}`));
});

afterAll(async () => {
  await tearDown(STACK, () => undefined);
});

test('the host image is built once and carries what makes Debian boot like FCOS under nspawn', async () => {
  const image = await ensureHostImage(() => undefined);
  expect(image).toBe(state.image);
  expect(readFileSync(join(image, 'etc/machine-id'), 'utf8')).toBe('uninitialized\n');
  expect(readFileSync(join(image, 'etc/systemd/system-preset/99-lotse-rehearse-default.preset'), 'utf8')).toBe('disable *\n');
  expect(readFileSync(join(image, 'etc/ssh/sshd_config.d/20-lotse-rehearse.conf'), 'utf8')).toContain('authorized_keys.d/ignition');
  for (const tool of ['usr/bin/podman', 'usr/bin/docker', 'usr/sbin/sshd', 'lib/systemd/systemd']) expect(existsSync(join(image, tool))).toBe(true);
});

test('every machine of the stack runs as a host, named and addressed, with its systemd fully booted', async () => {
  expect(state.hosts.map((h) => `${h.name}/${h.role}`)).toEqual(['lotse-master-0/master', 'lotse-worker-0/worker', 'lotse-worker-1/worker']);
  for (const status of hostStatuses(state)) expect(status.running).toBe(true);
  for (const host of state.hosts) {
    const running = (await hostExec(host, ['systemctl', 'is-system-running'], { allowFailure: true })).stdout.trim();
    // The preflight unit fails on this machine's kernel (no br_netfilter): degraded, nothing pending.
    expect(['running', 'degraded']).toContain(running);
    expect((await hostExec(host, ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout).toContain(`${host.address}/24`);
  }
});

test("each host carries its own Ignition config's files, user and units, applied by the Ignition binary", async () => {
  for (const [i, host] of state.hosts.entries()) {
    const config = machines[i].ignition;
    expect(readFileSync(join(hostPaths(host).ignition, 'files.log'), 'utf8')).toContain('files: op');
    expect((await hostExec(host, ['hostname'])).stdout.trim()).toBe(host.name);
    expect((await hostExec(host, ['cat', '/etc/sysctl.d/90-lotse.conf'])).stdout).toBe(ignitionFile(config, '/etc/sysctl.d/90-lotse.conf'));
    const enabled = async (unit: string) => (await hostExec(host, ['systemctl', 'is-enabled', unit], { allowFailure: true })).stdout.trim();
    // "enabled": true in the config becomes a preset; units without it stay off until the bootstrap starts them.
    expect(await enabled('lotse-agent.path')).toBe('enabled');
    expect(await enabled('lotse-agent.service')).toBe('disabled');
    if (host.role === 'master') expect(await enabled('lotse-master.path')).toBe('enabled');
    else expect(existsSync(join(hostPaths(host).root, 'etc/systemd/system/lotse-master.path'))).toBe(false);
    expect((await hostExec(host, ['systemctl', 'is-active', 'podman.socket'], { allowFailure: true })).stdout.trim()).toBe('active');
  }
});

test('SSH answers as core with the key from Ignition (and sudo), and refuses another key', async () => {
  for (const host of state.hosts) {
    const r = await ssh(host, 'echo $(id -un)@$(hostname); sudo -n id -u');
    expect(r.stdout.trim().split('\n')).toEqual([`core@${host.name}`, '0']);
  }
  const other = join(hostPaths(state.hosts[0]).ignition, 'other-key');
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', other]);
  // Each host made its own host key on first boot (the image carries none).
  const hostKeys = await Promise.all(state.hosts.map(async (h) => (await hostExec(h, ['cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout));
  expect(new Set(hostKeys).size).toBe(state.hosts.length);
  const refused = await ssh(state.hosts[0], 'true', other);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('Permission denied');
});

test("flannel's vxlan mesh (flannel.1, VNI 1, port 8472) carries traffic between hosts", async () => {
  const leases = state.hosts.map((host, i) => ({ host, subnet: `10.244.${i + 1}.0/24` }));
  await programOverlay(leases);
  const [a, b] = state.hosts;
  const details = (await hostExec(a, ['ip', '-d', 'link', 'show', 'flannel.1'])).stdout;
  expect(details).toMatch(/vxlan id 1 local 10\.213\.1\.10 dev eth0 .*dstport 8472/);
  // From master's overlay address to worker-0's: only the vxlan route leads there.
  const ping = await hostExec(a, ['ping', '-c', '2', '-W', '2', '-I', '10.244.1.0', '10.244.2.0'], { allowFailure: true });
  expect(ping.stdout).toContain(' 0% packet loss');
  const route = (await hostExec(a, ['ip', 'route', 'get', '10.244.2.0'])).stdout;
  expect(route).toContain('dev flannel.1');
  // Without the peer's fdb entry nothing arrives: the mesh, not some other path, carries it.
  await hostExec(a, ['bridge', 'fdb', 'del', (await hostExec(b, ['cat', '/sys/class/net/flannel.1/address'])).stdout.trim(), 'dev', 'flannel.1', 'dst', b.address], { allowFailure: true });
  const cut = await hostExec(a, ['ping', '-c', '1', '-W', '1', '-I', '10.244.1.0', '10.244.2.0'], { allowFailure: true });
  expect(cut.code).not.toBe(0);
});

test('power-off stops a host as a console would; power-on boots the same disk without re-running Ignition', async () => {
  const worker = state.hosts[2];
  await run(['touch', join(hostPaths(worker).root, 'var/lib/lotse-rehearse-marker')]);
  await powerOff(state, worker.name);
  expect(hostStatuses(loadState(STACK) as RehearsalState).find((h) => h.name === worker.name)?.running).toBe(false);
  expect((await ssh(worker, 'true')).code).not.toBe(0);
  const boot = await powerOn(state, worker.name);
  expect(boot.state).toMatch(/running|degraded/);
  expect((await ssh(worker, 'hostname; test -e /var/lib/lotse-rehearse-marker && echo kept')).stdout.trim().split('\n')).toEqual([worker.name, 'kept']);
});
