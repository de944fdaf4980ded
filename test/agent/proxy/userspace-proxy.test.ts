import dgram from 'node:dgram';
import http from 'node:http';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { startServiceProxy, type RunningServiceProxy } from '../../../agent/proxy/service-proxy';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { startTestMaster, type TestMaster } from '../../support/master';

const slices = (name?: string): ResourceRef => ({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default', name });
const IPS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
// A node address of its own: other suites running at the same time listen on 127.0.0.1's NodePorts.
const NODE = '127.0.0.21';

function endpointSlice(name: string, service: string, ports: { name: string; port: number; protocol: 'TCP' | 'UDP' }[], ready: Record<string, boolean>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4', ports,
    endpoints: Object.entries(ready).map(([ip, r]) => ({ addresses: [ip], conditions: { ready: r } })),
  };
}

function get(port: number): Promise<{ body?: string; error?: string; ms: number }> {
  const start = Date.now();
  return new Promise((resolve) => {
    const req = http.get({ host: NODE, port, path: '/', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ body, ms: Date.now() - start }));
    });
    req.on('timeout', () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, ms: Date.now() - start }));
  });
}

async function bodies(port: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port)).body ?? 'ERR');
  return out;
}

function udpAsk(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => (s.close(), reject(new Error('no UDP reply within 2 s'))), 2000);
    s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m.toString())));
    s.send(text, port, NODE);
  });
}

describe('userspace service proxy', () => {
  let master: TestMaster;
  let proxy: RunningServiceProxy | undefined;
  const servers: { close(cb?: () => void): unknown }[] = [];
  let backendPort = 0;
  let hello: Service;

  beforeAll(async () => {
    // A NodePort range of its own: suites running alongside (podman-e2e, lotse up) hold kernel rules
    // for 30000 and up in this network namespace.
    master = await startTestMaster({ master: { nodePortRange: [32700, 32767] } });
    for (const ip of IPS) {
      const label = `b${ip.slice(-1)}`;
      const server = http.createServer((_req, res) => res.end(label));
      await new Promise<void>((r) => server.listen({ host: ip, port: backendPort }, () => r()));
      backendPort = (server.address() as { port: number }).port;
      servers.push(server);
      const udp = dgram.createSocket('udp4');
      udp.on('message', (m, rinfo) => udp.send(`${label}:${m}`, rinfo.port, rinfo.address));
      await new Promise<void>((r) => udp.bind({ address: ip, port: backendPort }, () => r()));
      servers.push(udp);
    }
    hello = await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello', namespace: 'default' },
      spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'echo', port: 53, protocol: 'UDP' }] },
    } as Service);
    const ready = Object.fromEntries(IPS.map((ip) => [ip, true]));
    await master.client.create(slices(), endpointSlice('hello-1', 'hello', [{ name: 'http', port: backendPort, protocol: 'TCP' }, { name: 'echo', port: backendPort, protocol: 'UDP' }], ready));
    proxy = await startServiceProxy({ client: master.client, nodeAddresses: [NODE], mode: 'userspace' });
  });

  afterAll(async () => {
    await proxy?.stop();
    for (const s of servers) s.close();
    await master?.stop();
  });

  const nodePort = (name: string): number => Number(hello.spec?.ports?.find((p) => p.name === name)?.nodePort);

  it('listens on the NodePort of every node address and spreads round-robin', async () => {
    expect(proxy?.mode).toBe('userspace');
    expect(proxy?.listening()).toContain(`TCP/${NODE}:${nodePort('http')}`);
    expect(new Set(await bodies(nodePort('http'), 6))).toEqual(new Set(['b1', 'b2', 'b3']));
  });

  it('relays UDP to the backends and their replies back', async () => {
    const replies = [await udpAsk(nodePort('echo'), 'x'), await udpAsk(nodePort('echo'), 'y'), await udpAsk(nodePort('echo'), 'z')];
    expect(new Set(replies.map((r) => r.split(':')[0]))).toEqual(new Set(['b1', 'b2', 'b3']));
    expect(replies.map((r) => r.split(':')[1])).toEqual(['x', 'y', 'z']);
  });

  it('stops sending new connections to an unready endpoint within 1 s', async () => {
    const current = await master.client.get<EndpointSlice>(slices('hello-1'));
    current.endpoints![0].conditions = { ready: false };
    const start = Date.now();
    await master.client.update(slices('hello-1'), current);
    let seen: string[] = [];
    while (Date.now() - start < 3000) {
      seen = await bodies(nodePort('http'), 4);
      if (!seen.includes('b1') && !seen.includes('ERR')) break;
    }
    expect(Date.now() - start).toBeLessThan(1000);
    expect(new Set(seen)).toEqual(new Set(['b2', 'b3']));
  });

  it('keeps a client on one backend with sessionAffinity ClientIP', async () => {
    await master.client.patch(core('services', 'default', 'hello'), 'merge', { spec: { sessionAffinity: 'ClientIP' } });
    await waitFor(() => proxy!.table().some((e) => e.affinitySeconds !== undefined));
    await proxy!.settled();
    expect(new Set(await bodies(nodePort('http'), 6)).size).toBe(1);
  });

  it('refuses at once when no endpoint is ready, and serves again when one is', async () => {
    const current = await master.client.get<EndpointSlice>(slices('hello-1'));
    for (const ep of current.endpoints ?? []) ep.conditions = { ready: false };
    await master.client.update(slices('hello-1'), current);
    // Only hello's ports: the kubernetes service keeps the master as its endpoint.
    await waitFor(() => proxy!.table().filter((e) => e.name === 'hello').every((e) => e.backends.length === 0));
    await proxy!.settled();
    const refused = await get(nodePort('http'));
    expect(refused.error).toBe('ECONNREFUSED');
    expect(refused.ms).toBeLessThan(500);
    current.endpoints![2].conditions = { ready: true };
    await master.client.update(slices('hello-1'), { ...current, metadata: (await master.client.get<EndpointSlice>(slices('hello-1'))).metadata });
    await waitFor(async () => (await get(nodePort('http'))).body === 'b3');
  });

  it('closes the ports of a deleted service', async () => {
    await master.client.delete(core('services', 'default', 'hello'));
    await waitFor(() => proxy!.listening().length === 0);
    expect((await get(nodePort('http'))).error).toBe('ECONNREFUSED');
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
