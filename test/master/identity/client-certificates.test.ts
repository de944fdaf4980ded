import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { createCa, issueCertificate, type KeyPair } from '../../../cluster/certificates';
import { userKubeconfig } from '../../../master/user-kubeconfig';
import { waitFor } from '../controllers/cluster';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

jest.setTimeout(60_000);

/** A kubeconfig for the test master that signs in with `pair` and no token. */
function certificateKubeconfig(m: TestMaster, pair: KeyPair): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: m.url, 'certificate-authority-data': Buffer.from(m.caPem).toString('base64') } }],
    users: [{ name: 'u', user: { 'client-certificate-data': Buffer.from(pair.certPem).toString('base64'), 'client-key-data': Buffer.from(pair.keyPem).toString('base64') } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'c',
  });
}

describe('users signed in by client certificates (lotse kubeconfig --user)', () => {
  let m: TestMaster;
  let work: string;
  let alice: string;

  beforeAll(async () => {
    m = await startTestMaster();
    work = await mkdtemp(join(tmpdir(), 'lotse-certs-'));
    alice = join(work, 'alice.kubeconfig');
    await writeFile(alice, userKubeconfig(m.dataDir, { user: 'alice', groups: ['dev-team', 'qa'], validDays: 1 }), { mode: 0o600 });
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await m?.stop();
  });

  test('the certificate names the user (CN) and the groups (O), as kubectl auth whoami shows', async () => {
    const who = JSON.parse(await kubectlOk(alice, ['auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(who.status.userInfo.username).toBe('alice');
    expect(who.status.userInfo.groups).toEqual(expect.arrayContaining(['dev-team', 'qa', 'system:authenticated']));
  });

  test('RBAC decides: forbidden until a group is bound to view, then reads but no writes', async () => {
    const before = await kubectl(alice, ['get', 'configmaps', '-n', 'default']);
    expect(before.code).not.toBe(0);
    expect(before.stderr).toMatch(/forbidden.*"alice"/i);
    await kubectlOk(m.kubeconfigPath, ['create', 'rolebinding', 'dev-view', '--clusterrole=view', '--group=dev-team', '-n', 'default']);
    await waitFor('the binding to take effect', async () => (await kubectl(alice, ['get', 'configmaps', '-n', 'default'])).code === 0, 10_000);
    expect((await kubectl(alice, ['auth', 'can-i', 'create', 'configmaps', '-n', 'default'])).stdout.trim()).toBe('no');
    const write = await kubectl(alice, ['create', 'configmap', 'by-alice', '-n', 'default']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/forbidden/i);
    expect((await kubectl(alice, ['get', 'configmaps', '-n', 'kube-system'])).stderr).toMatch(/forbidden/i);
  });

  test('a certificate from another CA, or one not made for client authentication, signs nobody in', async () => {
    const foreignCa = createCa('not-the-cluster');
    const foreign = join(work, 'foreign.kubeconfig');
    await writeFile(foreign, certificateKubeconfig(m, issueCertificate(foreignCa, { commonName: 'mallory', organization: ['system:masters'], clientAuth: true })));
    const ours = await import('../../../master/data-dir');
    const ca = ours.readClusterCa(m.dataDir) as KeyPair;
    const serverOnly = join(work, 'server-only.kubeconfig');
    await writeFile(serverOnly, certificateKubeconfig(m, issueCertificate(ca, { commonName: 'mallory', organization: ['system:masters'], serverAuth: true })));
    for (const file of [foreign, serverOnly]) {
      const r = await kubectl(file, ['get', 'namespaces']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Unauthorized|must be logged in/i);
    }
  });

  test('a certificate in system:masters is the admin, as in Kubernetes', async () => {
    const root = join(work, 'root.kubeconfig');
    await writeFile(root, userKubeconfig(m.dataDir, { user: 'root', groups: ['system:masters'], validDays: 1 }));
    expect((await kubectl(root, ['auth', 'can-i', '*', '*'])).stdout.trim()).toBe('yes');
  });

  test('bad requests name the cause', () => {
    expect(() => userKubeconfig(m.dataDir, { user: '', groups: [], validDays: 1 })).toThrow(/not a usable user or group name/);
    expect(() => userKubeconfig(m.dataDir, { user: 'bob', groups: ['a\nb'], validDays: 1 })).toThrow(/not a usable/);
    expect(() => userKubeconfig(m.dataDir, { user: 'bob', groups: [], validDays: 0 })).toThrow(/--valid-days 0 is out of range/);
    expect(() => userKubeconfig(join(work, 'nowhere'), { user: 'bob', groups: [], validDays: 1 })).toThrow(/no cluster CA in .*nowhere.*--data-dir/);
  });
});
