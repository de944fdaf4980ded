import type { Node, Service } from 'kubernetes-types/core/v1';
import { main } from '../../../cli/main';
import { core } from '../../../kube/resource-path';
import { startTestMaster, type TestMaster } from '../../support/master';

describe('lotse service', () => {
  let master: TestMaster;
  let web: Service;
  const savedKubeconfig = process.env.KUBECONFIG;

  beforeAll(async () => {
    master = await startTestMaster();
    process.env.KUBECONFIG = master.kubeconfigPath;
    await master.client.create<Node>(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await master.client.patch(core('nodes', undefined, 'n1', 'status'), 'merge', {
      status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }, { type: 'Hostname', address: 'n1' }] },
    });
    web = await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }] },
    } as Service);
    await master.client.create(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'internal', namespace: 'default' },
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }] },
    } as Service);
  });

  afterAll(async () => {
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    await master?.stop();
  });

  async function lotse(...args: string[]): Promise<string> {
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
    try {
      await main(['node', 'lotse', ...args]);
    } finally {
      spy.mockRestore();
    }
    return out;
  }

  it('prints one NodePort URL per port with --url', async () => {
    const ports = web.spec?.ports ?? [];
    expect(await lotse('service', 'web', '--url')).toBe(`http://192.0.2.10:${ports[0].nodePort}\nhttp://192.0.2.10:${ports[1].nodePort}\n`);
    expect(await lotse('service', 'web', '-n', 'default')).toContain(`default/web http http://192.0.2.10:${ports[0].nodePort}`);
  });

  it('names the cause and the fix for a missing service or one without a NodePort', async () => {
    await expect(lotse('service', 'nope', '--url')).rejects.toThrow(/service "nope" not found in namespace "default": list them with kubectl get svc -n default/);
    await expect(lotse('service', 'internal', '-n', 'default', '--url')).rejects.toThrow(/type ClusterIP and has no NodePort: expose it with kubectl patch svc internal/);
  });

  it('says what is wrong with a kubeconfig it cannot use', async () => {
    process.env.KUBECONFIG = '/nonexistent/kubeconfig';
    try {
      await expect(lotse('service', 'web')).rejects.toThrow(/no kubeconfig at \/nonexistent\/kubeconfig/);
    } finally {
      process.env.KUBECONFIG = master.kubeconfigPath;
    }
  });
});
