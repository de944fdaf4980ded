import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { Bundle } from '../../payload/lotse-bundle';
import { parseInventory, type Inventory } from '../../bootstrap/inventory';
import type { StepEvent } from '../../bootstrap/host-steps';
import { BootstrapError, runBootstrap, type BootstrapOptions } from '../../bootstrap/run-bootstrap';
import { NODE_BUILDS } from '../../bootstrap/node-build';
import { runReset } from '../../bootstrap/run-reset';
import { SshConnection } from '../../bootstrap/ssh-connection';
import { kubectl, kubectlOk } from '../support/kubectl';
import { prepareBootstrapHome, type BootstrapHome } from '../support/bootstrap-home';
import { startSshHosts, type TestHost, type TestHosts } from '../support/ssh-hosts';
import { MASTER_NODE_FLAGS } from '../../cluster/master-node-flags';

jest.setTimeout(120_000);
const execFileAsync = promisify(execFile);
const SHIPPED = NODE_BUILDS.amd64.version;

/**
 * The bootstrap against three real sshd hosts in their own network and mount namespaces:
 * one master (etcd from Debian, the embedded scheduler and controllers) and two workers whose
 * agents run hollow pods (--runtime fake), plus a fourth host without Node.js.
 */
describe('lotse bootstrap over SSH', () => {
  let lab: TestHosts;
  let home: string;
  let kubeconfig: string;
  let bundle: Bundle;
  let inventory: Inventory;
  let events: StepEvent[];
  const host = (name: string): TestHost => lab.hosts.find((h) => h.name === name) as TestHost;

  const inventoryYaml = (hosts: { name: string; address: string; role: string; identityFile?: string }[]): string =>
    [
      'name: lab',
      'store: etcd',
      'agent:',
      '  runtime: fake',
      'network:',
      '  podCidr: 10.77.0.0/16',
      '  serviceCidr: 10.112.0.0/16',
      'hosts:',
      ...hosts.flatMap((h) => [`  - name: ${h.name}`, `    address: ${h.address}`, '    user: root', `    role: ${h.role}`, `    identityFile: ${h.identityFile ?? lab.identityFile}`]),
    ].join('\n');

  let bootstrapHome: BootstrapHome;
  const options = (extra: Partial<BootstrapOptions> = {}): BootstrapOptions => bootstrapHome.options((e) => void events.push(e), extra);

  const ended = (): StepEvent[] => events.filter((e) => e.state !== 'start');
  /** How the last run's `step` on `host` ended (waiting notices are not an end). */
  const lastEnd = (hostName: string, step: string): StepEvent | undefined => ended().filter((e) => e.host === hostName && e.step === step && e.state !== 'waiting').at(-1);

  beforeAll(async () => {
    bootstrapHome = await prepareBootstrapHome();
    ({ home, kubeconfig, bundle } = bootstrapHome);
    lab = await startSshHosts([{ name: 'm1' }, { name: 'w1' }, { name: 'w2' }, { name: 'nonode', withoutNode: true }]);
    inventory = parseInventory(
      inventoryYaml([
        { name: 'm1', address: host('m1').address, role: 'master' },
        { name: 'w1', address: host('w1').address, role: 'worker' },
        { name: 'w2', address: host('w2').address, role: 'worker' },
      ]),
      join(home, 'inventory.yaml'),
    );
  });

  afterAll(async () => {
    await lab?.cleanup();
    bootstrapHome?.remove();
  });

  beforeEach(() => {
    events = [];
  });

  test('forms 1 master + 1 worker, then a worker added to the inventory joins: 3 Ready nodes, a Deployment spreads over the workers', async () => {
    const first = await runBootstrap({ ...inventory, hosts: inventory.hosts.filter((h) => h.name !== 'w2') }, options());
    expect(first.context).toBe('lab');
    expect(ended().find((e) => e.host === 'm1' && e.step === 'etcd')?.state).toBe('done');
    // Every host got the pinned Node.js and runs lotse with it, not with the host's own Node.js.
    const shippedNode = `/opt/lotse/node-v${SHIPPED}/bin/node`;
    expect(ended().filter((e) => e.step === 'node.js').map((e) => [e.host, e.state, e.detail])).toEqual(
      expect.arrayContaining([['m1', 'done', `${shippedNode} ${SHIPPED} (amd64, shipped)`], ['w1', 'done', `${shippedNode} ${SHIPPED} (amd64, shipped)`]]),
    );
    expect(readFileSync(join(host('m1').dir, 'etc', 'master.env'), 'utf8')).toContain(`LOTSE_NODE=${shippedNode}\n`);
    const pids = (await execFileAsync('ip', ['netns', 'pids', host('m1').netns])).stdout.split('\n').filter(Boolean);
    const commands = pids.map((pid) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return []; } });
    // node, the master's Node.js flags, the bundle, `master`, its arguments.
    const master = commands.find((argv) => argv[argv.indexOf('/opt/lotse/lotse.js') + 1] === 'master');
    expect(master?.[0]).toBe(shippedNode);
    expect(master?.slice(1, 1 + MASTER_NODE_FLAGS.length)).toEqual(MASTER_NODE_FLAGS);
    expect(ended().find((e) => e.step === 'pki')?.state).toBe('done');
    events = [];
    await runBootstrap(inventory, options());
    // Only the new worker changes; the others are left as they are.
    expect(ended().filter((e) => e.state === 'done').map((e) => `${e.host} ${e.step}`).sort()).toEqual(['w2 agent', 'w2 files', 'w2 node.js']);
    const nodes = await kubectlOk(kubeconfig, ['--context', 'lab', 'get', 'nodes', '--no-headers']);
    const ready = nodes.split('\n').filter((l) => /\sReady\s/.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(ready.sort()).toEqual(['m1', 'w1', 'w2']);
    expect(ended().every((e) => e.ms !== undefined)).toBe(true);

    // The inventory's network reached the master (ClusterIPs from serviceCidr) and every agent
    // (cluster DNS on the node-local address, answering for the cluster domain).
    const clusterIp = await kubectlOk(kubeconfig, ['--context', 'lab', 'get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(clusterIp).toBe('10.112.0.1');
    // ...and the masters hand each Node a podCIDR out of the inventory's podCidr (what flannel --kube-subnet-mgr reads).
    const podCidrs = await kubectlOk(kubeconfig, ['--context', 'lab', 'get', 'nodes', '-o', 'jsonpath={.items[*].spec.podCIDR}']);
    expect(podCidrs.split(' ').sort()).toEqual([expect.stringMatching(/^10\.77\.\d+\.0\/24$/), expect.stringMatching(/^10\.77\.\d+\.0\/24$/), expect.stringMatching(/^10\.77\.\d+\.0\/24$/)]);
    let answer = '';
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && !answer.includes('10.112.0.1'); await new Promise((r) => setTimeout(r, 500))) {
      answer = await execFileAsync('ip', ['netns', 'exec', host('w2').netns, 'busybox', 'nslookup', 'kubernetes.default.svc.cluster.local', '169.254.20.10']).then((r) => r.stdout, (e: { stdout?: string; message: string }) => e.stdout ?? e.message);
    }
    expect(answer).toContain('10.112.0.1');

    await kubectlOk(kubeconfig, ['--context', 'lab', 'create', 'deployment', 'web', '--image=busybox', '--replicas=6']);
    const deadline = Date.now() + 30_000;
    let placed: string[] = [];
    while (Date.now() < deadline) {
      const out = await kubectl(kubeconfig, ['--context', 'lab', 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}']);
      placed = out.stdout.split('\n').filter(Boolean);
      if (placed.length === 6) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(placed).toHaveLength(6);
    if (!placed.includes('w2')) {
      const nodesNow = await kubectl(kubeconfig, ['--context', 'lab', 'get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")]}{"\\n"}{end}']);
      const ev = await kubectl(kubeconfig, ['--context', 'lab', 'get', 'events', '-A']);
      console.log(nodesNow.stdout, ev.stdout);
    }
    expect(placed).toEqual(expect.arrayContaining(['w1', 'w2']));
  });

  test('a second run changes nothing and says so for every step', async () => {
    await runBootstrap(inventory, options());
    const changed = ended().filter((e) => e.state === 'done' || e.state === 'failed');
    expect(changed).toEqual([]);
    expect(ended().filter((e) => e.state === 'unchanged').length).toBeGreaterThanOrEqual(3 * 4);
  });

  test('the lotse.js bundle runs `lotse bootstrap --inventory` and prints each step with its time', async () => {
    const { execFile } = await import('node:child_process');
    const file = join(home, 'inventory.yaml');
    writeFileSync(file, inventoryYaml(inventory.hosts));
    const out = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [bundle.path, 'bootstrap', '--inventory', file, '--kubeconfig', kubeconfig], { cwd: home, env: { PATH: process.env.PATH ?? '', LOTSE_HOME: home } }, (err, _stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) }),
      ),
    );
    expect(out.code).toBe(0);
    const lines = out.stderr.split('\n').filter((l) => /^\s{2}\S+\s+\S/.test(l) && /\d+\.\ds/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(3 * 5);
    for (const line of lines) expect(line).toMatch(/^\s+(m1|w1|w2|\*)\s+.+\s(no change|skipped)\s+\d+\.\ds/);
    expect(out.stderr).toMatch(/cluster lab is Ready in \d+\.\d s: kubectl --context lab get nodes/);
  });

  test('a host whose sshd dies mid-run is named with its step; restored, the next run finishes', async () => {
    rmSync(join(host('w2').dir, 'opt', 'lotse.js'));
    const run = runBootstrap(
      inventory,
      options({
        onStep: (e) => {
          events.push(e);
          if (e.host === 'w2' && e.step === 'files' && e.state === 'start') host('w2').killSshd();
        },
      }),
    );
    const err = (await run.catch((e: unknown) => e)) as BootstrapError;
    expect(err).toBeInstanceOf(BootstrapError);
    expect(err.failures.map((f) => [f.host, f.step])).toEqual([['w2', 'files']]);
    expect(err.message).toMatch(/^w2: step "files" failed: .*w2/);
    // The other hosts finished the phase and stay as they were.
    expect(ended().filter((e) => e.step === 'files' && e.host !== 'w2').map((e) => e.state)).toEqual(['unchanged', 'unchanged']);

    await host('w2').startSshd();
    events = [];
    await runBootstrap(inventory, options());
    expect(ended().find((e) => e.host === 'w2' && e.step === 'files')).toMatchObject({ state: 'done', detail: expect.stringMatching(/^1 of/) });
    expect(ended().find((e) => e.step === 'nodes ready')?.state).toBe('unchanged');
  });

  test('node: host on a host without Node.js is a clear message', async () => {
    const broken = parseInventory(`${inventoryYaml([{ name: 'nonode', address: host('nonode').address, role: 'master' }]).replace('name: lab', 'name: broken')}\nnode: host`, join(home, 'broken.yaml'));
    const err = (await runBootstrap(broken, options()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/nonode: step "node.js" failed: nonode has no Node.js, and the inventory says node: host; install Node.js 20\+ there or remove "node: host"/);
  });

  test('store: sqlite on a host whose Node.js has neither node:sqlite nor better-sqlite3 says what is missing', async () => {
    const yaml = `${inventoryYaml([{ name: 'w2', address: host('w2').address, role: 'master' }]).replace('name: lab', 'name: lite').replace('store: etcd', 'store: sqlite')}\nnode: host`;
    const err = (await runBootstrap(parseInventory(yaml, join(home, 'lite.yaml')), options()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/w2: step "files" failed: store: sqlite needs Node.js 22.13\+ \(built-in node:sqlite\) or the better-sqlite3 addon built for w2 \((x86_64|aarch64)\)/);
    expect(err.message).toMatch(/cannot load it \(.*Cannot find module 'better-sqlite3'.*\).*or use store: etcd in the inventory/);
  });

  test('a wrong identity file and an unreachable address are each a clear message', async () => {
    const otherKey = join(home, 'other_key');
    writeFileSync(otherKey, '');
    rmSync(otherKey);
    const { execFileSync } = await import('node:child_process');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const wrongKey = parseInventory(inventoryYaml([{ name: 'w1', address: host('w1').address, role: 'master', identityFile: otherKey }]), join(home, 'wrong.yaml'));
    const auth = (await runBootstrap(wrongKey, options()).catch((e: unknown) => e)) as Error;
    expect(auth.message).toMatch(/w1: step "connect" failed: w1 \(root@[\d.]+:22\) refused the key .*other_key: permission denied/);

    const away = parseInventory(inventoryYaml([{ name: 'away', address: lab.unusedAddress, role: 'master' }]), join(home, 'away.yaml'));
    const unreachable = (await runBootstrap(away, options({ connectTimeoutMs: 3000 })).catch((e: unknown) => e)) as Error;
    expect(unreachable.message).toMatch(/away: step "connect" failed: away did not answer SSH within 1 s \(1 attempt\); last: cannot reach away \(root@[\d.]+:22\)/);
  });

  test('reaches a host through a jump host, authenticating with the key in ssh-agent', async () => {
    const { execFileSync, spawn } = await import('node:child_process');
    const socket = join(home, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 5000;
      const { existsSync } = await import('node:fs');
      while (!existsSync(socket) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      execFileSync('ssh-add', ['-q', lab.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      process.env.SSH_AUTH_SOCK = socket;
      const w2 = inventory.hosts.find((h) => h.name === 'w2') as Inventory['hosts'][number];
      const conn = await SshConnection.connect(
        { ...w2, identityFile: undefined, jump: { user: 'root', host: host('m1').address, port: 22 } },
        { pinnedHosts: join(home, 'clusters', 'lab', 'known_hosts'), onPinned: () => undefined, connectTimeoutMs: 5000 },
      );
      try {
        // The jump host forwarded the connection; the shell runs on w2 (its address, its own /opt/lotse).
        expect(await conn.run('ip -4 -o addr show eth0', 'reading the address')).toContain(host('w2').address);
        expect(await conn.run('ls /opt/lotse', 'listing /opt/lotse')).toContain('lotse.js');
      } finally {
        conn.close();
      }
    } finally {
      delete process.env.SSH_AUTH_SOCK;
      agent.kill();
    }
  });

  test('a host whose key changed is refused with both fingerprints; --forget-host re-keys it', async () => {
    await host('w1').rotateHostKey();
    const err = (await runBootstrap(inventory, options()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/WARNING: the host key of w1 \([\d.]+\) has CHANGED/);
    expect(err.message).toMatch(/expected: ssh-ed25519 SHA256:\S+ .*\n\s+presented: ssh-ed25519 SHA256:\S+/);
    expect(err.message).toMatch(/run the bootstrap again with --forget-host w1/);
    expect(events.find((e) => e.host === 'w1' && e.step === 'files')).toBeUndefined();

    const notices: string[] = [];
    await expect(runBootstrap(inventory, options({ forgetHosts: ['nosuch'] }))).rejects.toThrow(/--forget-host nosuch: no such host in the inventory \(hosts: m1, w1, w2\)/);
    await runBootstrap(inventory, options({ forgetHosts: ['w1'], onNotice: (m) => void notices.push(m) }));
    expect(notices[0]).toMatch(/^forgot the pinned host key of w1 \([\d.]+\)/);
    expect(notices[1]).toMatch(/^pinned the host key of w1 /);
    expect(lastEnd('w1', 'connect')?.state).toBe('unchanged');
  });

  test('waits for a host whose sshd starts late, showing each attempt, and gives up after the SSH timeout with the fix', async () => {
    host('w2').killSshd();
    try {
      const late = await runBootstrap(
        inventory,
        options({
          sshWaitMs: 60_000,
          sshRetryMs: 300,
          onStep: (e) => {
            events.push(e);
            // sshd comes up only after the bootstrap has visibly waited for it three times.
            if (e.host === 'w2' && e.state === 'waiting' && events.filter((x) => x.host === 'w2' && x.state === 'waiting').length === 3) void host('w2').startSshd();
          },
        }),
      );
      expect(late.context).toBe('lab');
    } finally {
      await host('w2').startSshd().catch(() => undefined);
    }
    const waits = events.filter((e) => e.host === 'w2' && e.state === 'waiting');
    expect(waits.length).toBeGreaterThanOrEqual(3);
    // Refused, or reset when the first attempt meets the dying sshd's listener.
    expect(waits[0].detail).toMatch(/^attempt 1: cannot reach w2 \(root@[\d.]+:22\): connection (refused|reset while connecting); .*retrying$/);
    expect(lastEnd('w2', 'connect')?.state).toBe('unchanged');

    host('w2').killSshd();
    try {
      const started = Date.now();
      const err = (await runBootstrap(inventory, options({ sshWaitMs: 1500, sshRetryMs: 300 })).catch((e: unknown) => e)) as Error;
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(err.message).toMatch(/w2: step "connect" failed: w2 did not answer SSH within 2 s \(\d+ attempts\); last: cannot reach w2 .*connection refused.*run again with a longer --ssh-timeout SECONDS/);
    } finally {
      await host('w2').startSshd();
    }
  });

  // Last before the reset: the hosts keep the newer bundle, which the tests above do not expect.
  test('a newer bundle is rolled out one host at a time, each agent heartbeating again before the next restarts', async () => {
    const newer: Bundle = { ...bundle, content: Buffer.concat([bundle.content, Buffer.from('\n// a newer build\n')]), sha256: `${bundle.sha256}-newer` };
    const times: Record<string, { start?: number; end?: number }> = {};
    await runBootstrap(inventory, options({
      bundle: newer,
      onStep: (e) => {
        events.push(e);
        if (e.step !== 'agent' && e.step !== 'master') return;
        const key = `${e.host} ${e.step}`;
        times[key] ??= {};
        if (e.state === 'start') times[key].start = Date.now();
        else if (e.state !== 'waiting') times[key].end = Date.now();
      },
    }));
    expect(ended().filter((e) => e.step === 'agent').map((e) => `${e.host} ${e.state}`).sort()).toEqual(['m1 done', 'w1 done', 'w2 done']);
    // No agent restarts before the previous one is back: their steps do not overlap.
    const agents = ['m1', 'w1', 'w2'].map((h) => times[`${h} agent`]).sort((a, b) => (a.start ?? 0) - (b.start ?? 0));
    for (let i = 1; i < agents.length; i++) expect(agents[i].start).toBeGreaterThanOrEqual(agents[i - 1].end ?? Infinity);
    const nodes = await kubectlOk(kubeconfig, ['--context', 'lab', 'get', 'nodes', '--no-headers']);
    expect(nodes.split('\n').filter((l) => /\sReady\s/.test(l))).toHaveLength(3);
    events = [];
    await runBootstrap(inventory, options({ bundle: newer }));
    expect(ended().filter((e) => e.state === 'done')).toEqual([]);
  });

  test('lotse reset removes lotse from the hosts', async () => {
    const { readdirSync } = await import('node:fs');
    const resettable = { ...inventory, hosts: inventory.hosts.filter((h) => h.name !== 'w1') };
    await runReset(resettable, { onStep: () => undefined, onNotice: () => undefined, connectTimeoutMs: 5000 });
    expect(readdirSync(join(host('m1').dir, 'opt'))).toEqual([]);
    expect(readdirSync(join(host('m1').dir, 'var'))).toEqual([]);
    expect(readdirSync(join(host('w2').dir, 'etc'))).toEqual([]);
  });
});
