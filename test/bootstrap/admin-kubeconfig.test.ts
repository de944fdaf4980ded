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

  test('creates a missing file and refuses to overwrite one that is not YAML', () => {
    const path = join(dir, 'sub', 'config');
    expect(mergeAdminKubeconfig(path, entry)).toBe('');
    writeFileSync(path, 'clusters: [');
    expect(() => mergeAdminKubeconfig(path, entry)).toThrow(/cannot merge into .*config: it is not valid YAML/);
  });
});
