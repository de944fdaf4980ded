import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { mergeAdminKubeconfig } from '../../bootstrap/admin-kubeconfig';

describe('kubeconfig merge', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lotse-kubeconfig-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entry = { name: 'lab', server: 'https://10.0.0.1:6443', caPem: 'CA', token: 't1' };

  test('adds the context beside existing ones, keeps a backup, and reports no change the second time', () => {
    const path = join(dir, 'config');
    const other = { apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'prod', cluster: { server: 'https://prod' } }], users: [{ name: 'me', user: { token: 'x' } }], contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'me' } }], 'current-context': 'prod' };
    writeFileSync(path, YAML.stringify(other));
    const backup = mergeAdminKubeconfig(path, entry);
    expect(backup && existsSync(backup)).toBeTruthy();
    expect(YAML.parse(readFileSync(backup as string, 'utf8'))).toEqual(other);
    const merged = YAML.parse(readFileSync(path, 'utf8')) as typeof other;
    expect(merged.contexts.map((c) => c.name)).toEqual(['prod', 'lab']);
    expect(merged['current-context']).toBe('lab');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(mergeAdminKubeconfig(path, entry)).toBeUndefined();
    expect(readdirSync(dir)).toHaveLength(2);
    // A new token replaces the user entry in place rather than adding another.
    mergeAdminKubeconfig(path, { ...entry, token: 't2' });
    const users = (YAML.parse(readFileSync(path, 'utf8')) as typeof other).users;
    expect(users.filter((u) => u.name === 'lab-admin')).toEqual([{ name: 'lab-admin', user: { token: 't2' } }]);
  });

  test('without a load balancer, each master gets a context of its own beside the current one', () => {
    const path = join(dir, 'config');
    mergeAdminKubeconfig(path, { ...entry, masters: [{ name: 'm1', server: 'https://10.0.0.1:6443' }, { name: 'm2', server: 'https://10.0.0.2:6443' }] });
    type Doc = { clusters: { name: string; cluster: Record<string, string> }[]; contexts: { name: string; context: { cluster: string; user: string } }[]; 'current-context': string };
    const doc = YAML.parse(readFileSync(path, 'utf8')) as Doc;
    expect(doc['current-context']).toBe('lab');
    expect(doc.contexts.map((c) => [c.name, c.context.cluster, c.context.user])).toEqual([['lab', 'lab', 'lab-admin'], ['lab@m1', 'lab@m1', 'lab-admin'], ['lab@m2', 'lab@m2', 'lab-admin']]);
    expect(doc.clusters.find((c) => c.name === 'lab@m2')?.cluster).toEqual({ server: 'https://10.0.0.2:6443', 'certificate-authority-data': Buffer.from('CA').toString('base64') });
  });

  test('creates a missing file and refuses to overwrite one that is not YAML', () => {
    const path = join(dir, 'sub', 'config');
    expect(mergeAdminKubeconfig(path, entry)).toBe('');
    writeFileSync(path, 'clusters: [');
    expect(() => mergeAdminKubeconfig(path, entry)).toThrow(/cannot merge into .*config: it is not valid YAML/);
  });
});
