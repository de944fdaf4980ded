import { execFileSync } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { startServiceProxy, type RunningServiceProxy } from '../../../agent/proxy/service-proxy';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { startTestMaster, type TestMaster } from '../../support/master';
import { createNetns, curlMany, type TestNetns } from './netns';

const slices = (name?: string): ResourceRef => ({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default', name });
const BACKENDS: Record<string, string> = { '10.0.0.11': 'b1', '10.0.0.12': 'b2', '10.0.0.13': 'b3' };

function nftWorks(): boolean {
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

function slice(name: string, service: string, ready: Record<string, boolean>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'alt', port: 8080, protocol: 'TCP' },
    ],
    endpoints: Object.entries(ready).map(([ip, r]) => ({ addresses: [ip], conditions: { ready: r } })),
  };
}

const describeKernel = nftWorks() ? describe : describe.skip;
/** Ending UDP flows to removed endpoints needs conntrack(8) (Debian package conntrack). */
const hasConntrack = ((): boolean => {
  try {
    execFileSync('conntrack', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const itConntrack = hasConntrack ? it : it.skip;

describeKernel('kernel (nftables) service proxy in a network namespace', () => {
  let master: TestMaster;
  let ns: TestNetns;
  let proxy: RunningServiceProxy | undefined;
  let hello: Service;

  beforeAll(async () => {
    master = await startTestMaster();
    ns = await createNetns('10.0.0.1', Object.keys(BACKENDS));
    await ns.startHttpd(BACKENDS);
    hello = await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hello', namespace: 'default' },
      spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'alt', port: 81, targetPort: 'web' }] },
    } as Service);
    await master.client.create(slices(), slice('hello-1', 'hello', { '10.0.0.11': true, '10.0.0.12': true, '10.0.0.13': true }));
    proxy = await startServiceProxy({ client: master.client, nodeAddresses: [ns.nodeAddress], mode: 'kernel', netns: ns.name });
  });

  afterAll(async () => {
    await proxy?.stop().catch(() => undefined);
    await Promise.all([master?.stop(), ns?.destroy()]);
  });

  const clusterUrl = (port = 80): string => `http://${hello.spec?.clusterIP}:${port}/`;

  it('spreads ClusterIP connections over every ready backend, on each service port', async () => {
    expect(proxy?.mode).toBe('kernel');
    const viaHttp = await curlMany(ns, clusterUrl(80), 9);
    expect(new Set(viaHttp.bodies)).toEqual(new Set(['b1', 'b2', 'b3']));
    const viaAlt = await curlMany(ns, clusterUrl(81), 6);
    expect(new Set(viaAlt.bodies)).toEqual(new Set(['b1', 'b2', 'b3']));
  });

  it('answers on the NodePort of the node address', async () => {
    const nodePort = hello.spec?.ports?.[0].nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const r = await curlMany(ns, `http://${ns.nodeAddress}:${nodePort}/`, 6);
    expect(new Set(r.bodies)).toEqual(new Set(['b1', 'b2', 'b3']));
  });

  it('stops sending new connections to an endpoint within 1 s of it turning unready', async () => {
    const current = await master.client.get<EndpointSlice>(slices('hello-1'));
    current.endpoints![1].conditions = { ready: false };
    const start = Date.now();
    await master.client.update(slices('hello-1'), current);
    let bodies: string[] = [];
    while (Date.now() - start < 3000) {
      bodies = (await curlMany(ns, clusterUrl(), 4)).bodies;
      if (!bodies.includes('b2')) break;
    }
    const took = Date.now() - start;
    expect(bodies).not.toContain('b2');
    expect(new Set(bodies)).toEqual(new Set(['b1', 'b3']));
    expect(took).toBeLessThan(1000);
  });

  it('sends everything to the one backend left after scaling to 1', async () => {
    const current = await master.client.get<EndpointSlice>(slices('hello-1'));
    await master.client.update(slices('hello-1'), { ...slice('hello-1', 'hello', { '10.0.0.13': true }), metadata: current.metadata });
    await proxy!.settled();
    await waitFor(async () => (await curlMany(ns, clusterUrl(), 1)).bodies.join() === 'b3');
    expect(new Set((await curlMany(ns, clusterUrl(), 6)).bodies)).toEqual(new Set(['b3']));
  });

  it('keeps a client on one backend with sessionAffinity ClientIP', async () => {
    const current = await master.client.get<EndpointSlice>(slices('hello-1'));
    await master.client.update(slices('hello-1'), { ...slice('hello-1', 'hello', { '10.0.0.11': true, '10.0.0.12': true, '10.0.0.13': true }), metadata: current.metadata });
    await master.client.patch(core('services', 'default', 'hello'), 'merge', { spec: { sessionAffinity: 'ClientIP' } });
    await waitFor(async () => proxy!.table().some((e) => e.affinitySeconds !== undefined && e.backends.length === 3));
    await proxy!.settled();
    const r = await curlMany(ns, clusterUrl(), 8);
    expect(r.bodies).toHaveLength(8);
    expect(new Set(r.bodies).size).toBe(1);
  });

  it('refuses connections at once to a service without endpoints', async () => {
    const empty = await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'empty', namespace: 'default' },
      spec: { type: 'NodePort', selector: { app: 'nothing' }, ports: [{ port: 80, targetPort: 8080 }] },
    } as Service);
    await waitFor(async () => proxy!.table().some((e) => e.name === 'empty'));
    await proxy!.settled();
    const viaClusterIp = await curlMany(ns, `http://${empty.spec?.clusterIP}/`, 1, 5);
    expect(viaClusterIp.code).toBe(7); // curl: could not connect (refused), not 28 (timeout)
    expect(viaClusterIp.ms).toBeLessThan(1000);
    const viaNodePort = await curlMany(ns, `http://${ns.nodeAddress}:${empty.spec?.ports?.[0].nodePort}/`, 1, 5);
    expect(viaNodePort.code).toBe(7);
  });

  it('removes the rules of a deleted service: its NodePort closes and its ClusterIP is no longer translated', async () => {
    await master.client.delete(core('services', 'default', 'hello'));
    await waitFor(async () => !proxy!.table().some((e) => e.name === 'hello'));
    await proxy!.settled();
    const rules = (await ns.exec(['nft', 'list', 'table', 'ip', 'lotse'])).stdout;
    expect(rules).not.toContain(String(hello.spec?.clusterIP));
    expect(rules).not.toContain(`dport ${hello.spec?.ports?.[0].nodePort}`);
    const viaNodePort = await curlMany(ns, `http://${ns.nodeAddress}:${hello.spec?.ports?.[0].nodePort}/`, 1, 2);
    expect(viaNodePort.code).toBe(7);
  });

  itConntrack('sends UDP to the backends and moves an existing UDP flow off a removed endpoint at once', async () => {
    await ns.startUdpLabels(BACKENDS);
    const udp = await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'udp', namespace: 'default' },
      spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    } as Service);
    const udpSlice = (ips: string[]): EndpointSlice => ({
      ...slice('udp-1', 'udp', {}), ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    });
    await master.client.create(slices(), udpSlice(Object.keys(BACKENDS)));
    await waitFor(async () => proxy!.table().find((e) => e.name === 'udp')?.backends.length === 3);
    await proxy!.settled();
    const ip = String(udp.spec?.clusterIP);
    const spread = new Set<string>();
    for (let src = 41000; src < 41006; src++) spread.add(await ns.udpAsk(ip, 53, src));
    expect(spread).toEqual(new Set(['b1', 'b2', 'b3']));
    // One client port keeps its backend (conntrack)...
    const first = await ns.udpAsk(ip, 53, 42000);
    expect(await ns.udpAsk(ip, 53, 42000)).toBe(first);
    // ...until that backend leaves the service: then the same flow lands elsewhere.
    const gone = Object.entries(BACKENDS).find(([, label]) => label === first)![0];
    const current = await master.client.get<EndpointSlice>(slices('udp-1'));
    const start = Date.now();
    await master.client.update(slices('udp-1'), { ...udpSlice(Object.keys(BACKENDS).filter((a) => a !== gone)), metadata: current.metadata });
    await waitFor(async () => proxy!.table().find((e) => e.name === 'udp')?.backends.length === 2);
    await proxy!.settled();
    const after = await ns.udpAsk(ip, 53, 42000);
    expect(Date.now() - start).toBeLessThan(1000);
    expect(['b1', 'b2', 'b3'].filter((l) => l !== first)).toContain(after);
  });

  it('rebuilds its table whole when it was removed behind its back', async () => {
    expect((await ns.exec(['nft', 'delete', 'table', 'ip', 'lotse'])).code).toBe(0);
    // A change makes the proxy sync: the diff fails against the missing table, the retry rebuilds.
    await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'poke', namespace: 'default' }, spec: { ports: [{ port: 80 }] },
    } as Service);
    const empty = await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty2', namespace: 'default' }, spec: { ports: [{ port: 80 }] },
    } as Service);
    await waitFor(async () => (await ns.exec(['nft', 'list', 'table', 'ip', 'lotse'])).stdout.includes(String(empty.spec?.clusterIP)), 5000);
    const viaClusterIp = await curlMany(ns, `http://${empty.spec?.clusterIP}/`, 1, 5);
    expect(viaClusterIp.code).toBe(7);
  });

  it('rebuilds from the API after a restart and removes its table on stop', async () => {
    await proxy!.stop();
    proxy = undefined;
    expect((await ns.exec(['nft', 'list', 'table', 'ip', 'lotse'])).code).not.toBe(0);
    const again = await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'again', namespace: 'default' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    } as Service);
    await master.client.create(slices(), slice('again-1', 'again', { '10.0.0.12': true }));
    proxy = await startServiceProxy({ client: master.client, nodeAddresses: [ns.nodeAddress], mode: 'kernel', netns: ns.name });
    expect((await curlMany(ns, `http://${again.spec?.clusterIP}/`, 2)).bodies).toEqual(['b2', 'b2']);
    const hostTables = execFileSync('nft', ['list', 'tables']).toString();
    expect(hostTables).not.toContain('table ip lotse\n');
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
