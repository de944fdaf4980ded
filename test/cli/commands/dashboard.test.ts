import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { dashboardTarget, registerDashboard } from '../../../cli/commands/dashboard';

let dir: string;
const saved = { ...process.env };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lotse-dashboard-cli-'));
});

afterEach(() => {
  process.env = { ...saved };
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function writeKubeconfig(server: string): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, `apiVersion: v1\nkind: Config\ncurrent-context: other\ncontexts:\n- name: first\n  context: {cluster: a, user: u}\n- name: other\n  context: {cluster: b, user: u}\nclusters:\n- name: a\n  cluster: {server: https://10.0.0.1:6443}\n- name: b\n  cluster: {server: ${server}}\n`);
  return file;
}

test('a local cluster from lotse up wins: its master port from $LOTSE_HOME/local/cluster.json', () => {
  mkdirSync(join(dir, 'local'), { recursive: true });
  writeFileSync(join(dir, 'local', 'cluster.json'), JSON.stringify({ port: 16443, runtime: {}, nodes: ['lotse-local'] }));
  const t = dashboardTarget({ LOTSE_HOME: dir, KUBECONFIG: writeKubeconfig('https://192.0.2.7:6443') });
  expect(t.url).toBe('https://127.0.0.1:16443/dashboard/');
  expect(t.source).toContain(join(dir, 'local'));
});

test('without a local cluster, the server of the current kubeconfig context', () => {
  const t = dashboardTarget({ LOTSE_HOME: dir, KUBECONFIG: writeKubeconfig('https://192.0.2.7:6443/') });
  expect(t.url).toBe('https://192.0.2.7:6443/dashboard/');
  expect(t.source).toBe('kubeconfig context "other"');
});

test('neither: one line with the cause and the fix', () => {
  expect(() => dashboardTarget({ LOTSE_HOME: dir, KUBECONFIG: join(dir, 'missing') })).toThrow(/no local cluster .* and no kubeconfig at .*: start one with lotse up, or set KUBECONFIG/);
});

test('--url prints only the URL; without it a browser is opened with xdg-open when there is a display', async () => {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const opened = join(dir, 'opened');
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${opened}\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);
  process.env = { ...saved, LOTSE_HOME: dir, KUBECONFIG: writeKubeconfig('https://192.0.2.7:6443'), DISPLAY: ':0', PATH: `${bin}:${saved.PATH}` };
  let out = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const run = async (...args: string[]): Promise<void> => {
    const program = new Command('lotse').exitOverride();
    registerDashboard(program);
    await program.parseAsync(['node', 'lotse', 'dashboard', ...args]);
  };
  await run('--url');
  expect(out).toBe('https://192.0.2.7:6443/dashboard/\n');
  out = '';
  await run();
  expect(out).toContain('dashboard (kubeconfig context "other"): https://192.0.2.7:6443/dashboard/');
  expect(out).not.toContain('No browser found');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      if (readFileSync(opened, 'utf8').trim()) break;
    } catch {
      // not yet written
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(readFileSync(opened, 'utf8').trim()).toBe('https://192.0.2.7:6443/dashboard/');
});
