import { masterControllers } from '../../../master/controllers/master-controllers';
import { kubectl, kubectlOk } from '../../support/kubectl';
import { startTestMaster, type TestMaster } from '../../support/master';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('ServiceAccounts and kube-root-ca.crt in every namespace (kubectl)', () => {
  let m: TestMaster;
  const get = (args: string[]) => kubectl(m.kubeconfigPath, ['get', ...args]);

  beforeAll(async () => {
    m = await startTestMaster({ controllers: masterControllers() });
  }, 60_000);
  afterAll(async () => {
    await m?.stop();
  });

  it('gives the built-in and new namespaces a default ServiceAccount and the cluster CA', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public']) {
      await until(`default SA in ${ns}`, async () => (await get(['serviceaccount', 'default', '-n', ns])).code === 0);
    }
    await kubectlOk(m.kubeconfigPath, ['create', 'namespace', 'sa-new']);
    await until('default SA in sa-new', async () => (await get(['sa', 'default', '-n', 'sa-new'])).code === 0);
    const ca = await until('kube-root-ca.crt in sa-new', async () => {
      const r = await get(['configmap', 'kube-root-ca.crt', '-n', 'sa-new', '-o', 'jsonpath={.data.ca\\.crt}']);
      return r.code === 0 && r.stdout;
    });
    expect(ca).toBe(m.caPem);
  });

  it('puts both back when they are deleted, and restores an edited certificate', async () => {
    await kubectlOk(m.kubeconfigPath, ['create', 'namespace', 'sa-heal']);
    await until('default SA', async () => (await get(['sa', 'default', '-n', 'sa-heal'])).code === 0);
    const uid = (await kubectlOk(m.kubeconfigPath, ['get', 'sa', 'default', '-n', 'sa-heal', '-o', 'jsonpath={.metadata.uid}'])).trim();
    await kubectlOk(m.kubeconfigPath, ['delete', 'sa', 'default', '-n', 'sa-heal']);
    await until('a new default SA', async () => {
      const r = await get(['sa', 'default', '-n', 'sa-heal', '-o', 'jsonpath={.metadata.uid}']);
      return r.code === 0 && r.stdout.trim() !== uid;
    });
    await until('kube-root-ca.crt', async () => (await get(['cm', 'kube-root-ca.crt', '-n', 'sa-heal'])).code === 0);
    await kubectlOk(m.kubeconfigPath, ['delete', 'configmap', 'kube-root-ca.crt', '-n', 'sa-heal']);
    await until('kube-root-ca.crt again', async () => (await get(['cm', 'kube-root-ca.crt', '-n', 'sa-heal'])).code === 0);
    await kubectlOk(m.kubeconfigPath, ['patch', 'configmap', 'kube-root-ca.crt', '-n', 'sa-heal', '--type=merge', '-p', '{"data":{"ca.crt":"tampered"}}']);
    await until('the CA restored', async () => {
      const r = await get(['cm', 'kube-root-ca.crt', '-n', 'sa-heal', '-o', 'jsonpath={.data.ca\\.crt}']);
      return r.stdout === m.caPem;
    });
  });

  it('deletes a namespace with its ServiceAccounts, so a namespace of the same name starts clean', async () => {
    await kubectlOk(m.kubeconfigPath, ['create', 'namespace', 'sa-gone']);
    await kubectlOk(m.kubeconfigPath, ['create', 'serviceaccount', 'robot', '-n', 'sa-gone']);
    await kubectlOk(m.kubeconfigPath, ['delete', 'namespace', 'sa-gone', '--wait=true', '--timeout=30s']);
    // The store, not a cache: nothing of the namespace is left behind.
    const left = await m.store.list('/registry/core/serviceaccounts/sa-gone/');
    expect(left.items.map((i) => i.key)).toEqual([]);
    await kubectlOk(m.kubeconfigPath, ['create', 'namespace', 'sa-gone']);
    await until('default SA in the new sa-gone', async () => (await get(['sa', 'default', '-n', 'sa-gone'])).code === 0);
    const names = (await kubectlOk(m.kubeconfigPath, ['get', 'sa', '-n', 'sa-gone', '-o', 'name'])).trim().split('\n');
    expect(names).toEqual(['serviceaccount/default']);
  }, 60_000);
});
