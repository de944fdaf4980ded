import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Bundle } from '../../payload/lotse-bundle';
import { parseInventory, type Inventory } from '../../bootstrap/inventory';
import type { StepEvent } from '../../bootstrap/host-steps';
import { BootstrapError, runBootstrap, type BootstrapOptions } from '../../bootstrap/run-bootstrap';
import { kubectlOk } from '../support/kubectl';
import { prepareBootstrapHome, type BootstrapHome } from '../support/bootstrap-home';
import { startSshHosts, type TestHost, type TestHosts } from '../support/ssh-hosts';

jest.setTimeout(180_000);
const execFileAsync = promisify(execFile);

/** One line of `etcdctl member list`: what the assertions look at. */
interface ListedMember {
  id: string;
  started: boolean;
  name: string;
  peer: string;
}

/**
 * etcd membership run by the bootstrap on real sshd hosts (test/support/ssh-hosts.ts, Debian's
 * etcd supervised without systemd): a one-master cluster grows to three, with a run interrupted
 * right after a member was added; then a master dies and a new machine with its name and address
 * (nothing on it) takes its place. Objects written through the API at every stage must survive.
 */
/**
 * Four real bootstrap runs over SSH (about two minutes): a long scenario, run on demand with
 * `LOTSE_LONG_TESTS=1 npx jest test/bootstrap/etcd-membership.test.ts` (docs/contributing.md), so
 * that CI stays inside its time; the rules it exercises are unit-tested in
 * etcd-membership-decisions.test.ts on every run.
 */
const describeLong = process.env.LOTSE_LONG_TESTS === '1' ? describe : describe.skip;

describeLong('lotse bootstrap manages etcd membership', () => {
  let lab: TestHosts;
  let home: string;
  let kubeconfig: string;
  let bundle: Bundle;
  let events: StepEvent[];
  const host = (name: string): TestHost => lab.hosts.find((h) => h.name === name) as TestHost;
  const pki = (): string => join(home, 'clusters', 'ha', 'pki');

  const inventory = (names: string[]): Inventory =>
    parseInventory(
      [
        'name: ha',
        'store: etcd',
        'agent:',
        '  runtime: fake',
        'hosts:',
        ...names.flatMap((n) => [`  - name: ${n}`, `    address: ${host(n).address}`, '    user: root', '    role: master', `    identityFile: ${lab.identityFile}`]),
      ].join('\n'),
      join(home, 'inventory.yaml'),
    );

  let bootstrapHome: BootstrapHome;
  const options = (extra: Partial<BootstrapOptions> = {}): BootstrapOptions => bootstrapHome.options((e) => void events.push(e), extra);
  const lastEnd = (hostName: string, step: string): StepEvent | undefined => events.filter((e) => e.host === hostName && e.step === step && e.state !== 'start' && e.state !== 'waiting').at(-1);

  /** etcdctl from this machine (the test hosts' bridge is routed here) with the cluster's etcd client certificate. */
  const etcdctl = async (endpoint: string, args: string[]): Promise<string> => {
    const r = await execFileAsync('etcdctl', [`--endpoints=https://${host(endpoint).address}:2379`, `--cacert=${pki()}/etcd-ca.crt`, `--cert=${pki()}/etcd-client.crt`, `--key=${pki()}/etcd-client.key`, '--command-timeout=5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
    return r.stdout + r.stderr;
  };
  const members = async (via = 'm1'): Promise<ListedMember[]> =>
    (await etcdctl(via, ['member', 'list'])).trim().split('\n').map((line) => {
      const [id, state, name, peer] = line.split(', ');
      return { id, started: state === 'started', name, peer };
    });
  const writeConfigMap = (name: string): Promise<string> => kubectlOk(kubeconfig, ['--context', 'ha', 'create', 'configmap', name, `--from-literal=written=${name}`]);

  /** The machine dies: every process but sshd is killed (etcd, the master, the agent and their supervisors). */
  const killMachine = async (h: TestHost): Promise<void> => {
    const pids = (await execFileAsync('ip', ['netns', 'pids', h.netns])).stdout.split('\n').filter(Boolean);
    for (const pid of pids) {
      const comm = (() => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return 'sshd'; } })();
      if (comm !== 'sshd' && comm !== 'sshd-session') await execFileAsync('kill', ['-KILL', pid]).catch(() => undefined);
    }
  };
  /**
   * ...and a new machine takes its name and address: no lotse configuration, state or etcd data on
   * it. /opt/lotse (the shipped Node.js, which plays no part in etcd) stays, sparing the test the
   * 10 s of copying it again.
   */
  const wipeMachine = (h: TestHost): void => {
    for (const d of ['etc', 'var', 'run']) for (const entry of readdirSync(join(h.dir, d))) rmSync(join(h.dir, d, entry), { recursive: true, force: true });
  };

  beforeAll(async () => {
    bootstrapHome = await prepareBootstrapHome();
    ({ home, kubeconfig, bundle } = bootstrapHome);
    lab = await startSshHosts([{ name: 'm1' }, { name: 'm2' }, { name: 'm3' }]);
  });

  afterAll(async () => {
    await lab?.cleanup();
    bootstrapHome?.remove();
  });

  beforeEach(() => {
    events = [];
  });

  test('one master, then three: a run stopped right after `member add` is finished by the next, which adds nobody twice', async () => {
    await runBootstrap(inventory(['m1']), options());
    expect(lastEnd('*', 'etcd members')?.detail).toBe('a new cluster of 1 (m1)');
    await writeConfigMap('before-growing');

    // The run stops as soon as m2 is registered in etcd, before its etcd starts.
    const interrupted = await runBootstrap(inventory(['m1', 'm2', 'm3']), options({
      onStep: (e) => {
        events.push(e);
        if (e.host === 'm2' && e.step === 'etcd member' && e.state === 'done') throw new Error('interrupted');
      },
    })).catch((err: unknown) => err);
    expect(interrupted).toBeInstanceOf(BootstrapError);
    expect(lastEnd('*', 'etcd members')?.detail).toBe('1 member (m1); joining one at a time: m2, m3');
    const pending = await members();
    expect(pending.map((m) => [m.name, m.started])).toEqual(expect.arrayContaining([['m1', true], ['', false]]));
    expect(pending).toHaveLength(2);

    events = [];
    await runBootstrap(inventory(['m1', 'm2', 'm3']), options());
    expect(lastEnd('m2', 'etcd member')).toMatchObject({ state: 'unchanged', detail: expect.stringMatching(/^added earlier as [0-9a-f]+, not started yet: starting it$/) });
    expect(lastEnd('m3', 'etcd member')).toMatchObject({ state: 'done', detail: expect.stringMatching(/^added as [0-9a-f]+$/) });
    const grown = await members();
    expect(grown.map((m) => [m.name, m.started]).sort()).toEqual([['m1', true], ['m2', true], ['m3', true]]);
    expect(grown.find((m) => m.name === 'm2')?.id).toBe(pending.find((m) => !m.started)?.id);
    expect(readFileSync(join(host('m3').dir, 'etc', 'etcd.env'), 'utf8')).toMatch(/^ETCD_INITIAL_CLUSTER_STATE=existing$/m);
    // m1 keeps the settings it formed the cluster with: etcd ignores them now, and a rewrite would restart it.
    expect(readFileSync(join(host('m1').dir, 'etc', 'etcd.env'), 'utf8')).toMatch(/^ETCD_INITIAL_CLUSTER=m1=https:\/\/[\d.]+:2380$/m);
    await writeConfigMap('after-growing');
  });

  test('a dead master replaced by a new machine with its name and address: its old member is removed, the new one added and healthy', async () => {
    const before = await members();
    await killMachine(host('m3'));
    wipeMachine(host('m3'));
    await writeConfigMap('while-m3-is-dead');

    await runBootstrap(inventory(['m1', 'm2', 'm3']), options());
    const oldM3 = before.find((m) => m.name === 'm3') as ListedMember;
    expect(lastEnd('m3', 'etcd member')).toMatchObject({ state: 'done', detail: expect.stringMatching(new RegExp(`^removed the dead machine's member m3 ${oldM3.id}; added as [0-9a-f]+$`)) });
    const after = await members();
    expect(after.map((m) => [m.name, m.started]).sort()).toEqual([['m1', true], ['m2', true], ['m3', true]]);
    expect(after.find((m) => m.name === 'm3')?.id).not.toBe(oldM3.id);
    expect(await etcdctl('m3', ['endpoint', 'health'])).toMatch(/is healthy/);
    // Every object survived, read through the new machine's own master.
    const names = await kubectlOk(kubeconfig, ['--context', 'ha', '--server', `https://${host('m3').address}:6443`, 'get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(names.split(' ')).toEqual(expect.arrayContaining(['before-growing', 'after-growing', 'while-m3-is-dead']));
    // The members that lived on were left alone: m1 with the settings it formed the cluster with, m2 with those it joined with.
    expect(['m1', 'm2'].flatMap((h) => ['etcd', 'master', 'agent'].map((s) => `${h} ${s} ${lastEnd(h, s)?.state}`))).toEqual(['m1 etcd unchanged', 'm1 master unchanged', 'm1 agent unchanged', 'm2 etcd unchanged', 'm2 master unchanged', 'm2 agent unchanged']);
  });
});
