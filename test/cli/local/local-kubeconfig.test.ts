import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { userKubeconfigPath } from '../../../kube/kubeconfig-file';
import { mergeLocalKubeconfig, removeLocalKubeconfig, renamedAdminKubeconfig } from '../../../cli/local/local-kubeconfig';

const ADMIN = YAML.stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'lotse', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'Q0E=' } }],
  users: [{ name: 'lotse-admin', user: { token: 'secret' } }],
  contexts: [{ name: 'lotse', context: { cluster: 'lotse', user: 'lotse-admin' } }],
  'current-context': 'lotse',
});

const EXISTING = `# my clusters
apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster:
      server: https://prod.example:6443
users:
  - name: prod-admin
    user:
      token: prod-token
contexts:
  - name: prod
    context:
      cluster: prod
      user: prod-admin
current-context: prod
`;

describe('mergeLocalKubeconfig', () => {
  let dir: string;
  let admin: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-kubeconfig-'));
    admin = path.join(dir, 'admin.kubeconfig');
    fs.writeFileSync(admin, ADMIN);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds the lotse context beside existing ones, switches to it and keeps a backup of the old file', () => {
    const target = path.join(dir, 'config');
    fs.writeFileSync(target, EXISTING);
    const result = mergeLocalKubeconfig(admin, target, new Date('2026-01-02T03:04:05Z'));
    expect(result.backup).toBe(`${target}.lotse-backup-2026-01-02T03-04-05-000Z`);
    expect(fs.readFileSync(result.backup!, 'utf8')).toBe(EXISTING);
    const text = fs.readFileSync(target, 'utf8');
    expect(text.startsWith('# my clusters')).toBe(true);
    const merged = YAML.parse(text);
    expect(merged.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'lotse']);
    expect(merged.users.find((u: { name: string }) => u.name === 'prod-admin').user.token).toBe('prod-token');
    expect(merged.users.find((u: { name: string }) => u.name === 'lotse').user.token).toBe('secret');
    expect(merged.clusters.find((c: { name: string }) => c.name === 'lotse').cluster.server).toBe('https://127.0.0.1:6443');
    expect(merged['current-context']).toBe('lotse');
  });

  it('replaces an older lotse entry instead of adding a second, and writes no backup when nothing changes', () => {
    const target = path.join(dir, 'config');
    fs.writeFileSync(target, EXISTING);
    mergeLocalKubeconfig(admin, target);
    fs.writeFileSync(admin, ADMIN.replace('6443', '7443').replace('secret', 'rotated'));
    mergeLocalKubeconfig(admin, target, new Date('2026-01-02T03:04:06Z'));
    const merged = YAML.parse(fs.readFileSync(target, 'utf8'));
    expect(merged.clusters.filter((c: { name: string }) => c.name === 'lotse')).toHaveLength(1);
    expect(merged.clusters.find((c: { name: string }) => c.name === 'lotse').cluster.server).toBe('https://127.0.0.1:7443');
    const backups = fs.readdirSync(dir).filter((f) => f.includes('lotse-backup'));
    expect(mergeLocalKubeconfig(admin, target).backup).toBeUndefined();
    expect(fs.readdirSync(dir).filter((f) => f.includes('lotse-backup'))).toEqual(backups);
  });

  it('creates a missing kubeconfig (and its folder) without a backup, private to the user', () => {
    const target = path.join(dir, 'new', '.kube', 'config');
    const result = mergeLocalKubeconfig(admin, target);
    expect(result.backup).toBeUndefined();
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    expect(YAML.parse(fs.readFileSync(target, 'utf8'))['current-context']).toBe('lotse');
  });

  it('refuses a kubeconfig that is not YAML rather than overwrite it', () => {
    const target = path.join(dir, 'config');
    fs.writeFileSync(target, 'clusters: [unclosed\n');
    expect(() => mergeLocalKubeconfig(admin, target)).toThrow(/not valid YAML/);
    expect(fs.readFileSync(target, 'utf8')).toBe('clusters: [unclosed\n');
  });

  it('removes only the lotse entries again (down --purge), with a backup, and clears current-context', () => {
    const target = path.join(dir, 'config');
    fs.writeFileSync(target, EXISTING);
    mergeLocalKubeconfig(admin, target, new Date('2026-01-02T03:04:05Z'));
    const merged = fs.readFileSync(target, 'utf8');
    const result = removeLocalKubeconfig(target, new Date('2026-01-02T03:04:06Z'));
    expect(fs.readFileSync(result.backup!, 'utf8')).toBe(merged);
    const after = YAML.parse(fs.readFileSync(target, 'utf8'));
    expect(after.contexts.map((c: { name: string }) => c.name)).toEqual(['prod']);
    expect(after.clusters.map((c: { name: string }) => c.name)).toEqual(['prod']);
    expect(after.users.map((c: { name: string }) => c.name)).toEqual(['prod-admin']);
    expect(after['current-context']).toBeUndefined();
    expect(removeLocalKubeconfig(target).backup).toBeUndefined();
  });

  it('prints the admin kubeconfig under the lotse names and picks the first KUBECONFIG entry', () => {
    const printed = YAML.parse(renamedAdminKubeconfig(admin));
    expect(printed.contexts).toEqual([{ name: 'lotse', context: { cluster: 'lotse', user: 'lotse' } }]);
    expect(printed.users[0].user.token).toBe('secret');
    expect(userKubeconfigPath({ KUBECONFIG: `/a/config${path.delimiter}/b/config` })).toBe('/a/config');
    expect(userKubeconfigPath({})).toBe(path.join(os.homedir(), '.kube', 'config'));
  });
});
