import { rawRequest } from '../../support/https-raw';
import { startTestMaster, type TestMaster } from '../../support/master';
import { suiteTempDir } from '../../support/suite-temp-dir';
import { lotse } from '../lotse-cli';

jest.setTimeout(90_000);

describe('lotse token', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster();
  });
  afterAll(async () => {
    await m?.stop();
  });

  const kubeconfigDir = suiteTempDir('lotse-kc-');
  const cli = (args: string[]) => lotse(['token', '--kubeconfig', m.kubeconfigPath, ...args], process.env);
  const join = (token: string, nodeName: string) => rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token, body: JSON.stringify({ nodeName, addresses: [] }) });

  test('create prints a token that joins; list shows its ID, expiry and description but not its secret; delete revokes it', async () => {
    const created = await cli(['create', '--ttl', '2h', '--description', 'rack 3']);
    expect([created.code, created.stderr]).toEqual([0, '']);
    const token = created.stdout.trim();
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect((await join(token, 'cli-node')).status).toBe(201);

    const listed = await cli(['list']);
    expect(listed.code).toBe(0);
    const row = listed.stdout.split('\n').find((l) => l.startsWith(token.slice(0, 6)));
    expect(row).toMatch(/1h59m|2h0m/);
    expect(row).toContain('authentication,signing');
    expect(row).toContain('rack 3');
    expect(listed.stdout).not.toContain(token.slice(7));

    const deleted = await cli(['delete', token]);
    expect([deleted.code, deleted.stdout.trim()]).toEqual([0, `bootstrap token "${token.slice(0, 6)}" deleted`]);
    expect((await join(token, 'cli-node-2')).status).toBe(401);
  });

  test('a kubeconfig with several contexts: its current one is used, or the one --context names', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const YAML = (await import('yaml')).default;
    const admin = YAML.parse(readFileSync(m.kubeconfigPath, 'utf8')) as { clusters: { cluster: unknown }[]; users: { user: unknown }[] };
    const merged = {
      apiVersion: 'v1', kind: 'Config', 'current-context': 'lab',
      clusters: [{ name: 'elsewhere', cluster: { server: 'https://192.0.2.1:6443', 'certificate-authority-data': 'bm9uZQ==' } }, { name: 'lab', cluster: admin.clusters[0].cluster }],
      users: [{ name: 'someone', user: { token: 'nope' } }, { name: 'lab-admin', user: admin.users[0].user }],
      contexts: [{ name: 'elsewhere', context: { cluster: 'elsewhere', user: 'someone' } }, { name: 'lab', context: { cluster: 'lab', user: 'lab-admin' } }],
    };
    const file = join(kubeconfigDir, 'config');
    writeFileSync(file, YAML.stringify(merged), { mode: 0o600 });
    expect((await lotse(['token', '--kubeconfig', file, 'list'], process.env)).code).toBe(0);
    expect((await lotse(['token', '--kubeconfig', file, '--context', 'lab', 'list'], process.env)).code).toBe(0);
    const missing = await lotse(['token', '--kubeconfig', file, '--context', 'nope', 'list'], process.env);
    expect(missing.stderr).toContain('has no context "nope" (it has: elsewhere, lab)');
  });

  test('a bad --ttl, an unknown ID and a malformed one are messages with the fix', async () => {
    const ttl = await cli(['create', '--ttl', '2 days']);
    expect(ttl.code).not.toBe(0);
    expect(ttl.stderr).toContain('--ttl "2 days" is not a duration');
    const unknown = await cli(['delete', 'abcdef']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('there is no bootstrap token "abcdef"');
    const bad = await cli(['delete', 'NOT-AN-ID']);
    expect(bad.stderr).toContain('is neither a token ID');
  });
});
