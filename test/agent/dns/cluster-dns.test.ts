import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { startClusterDns, type RunningClusterDns } from '../../../agent/dns/cluster-dns';
import { frame } from '../../../agent/dns/upstream-forwarder';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { startTestMaster, type TestMaster } from '../../support/master';

const slicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default' };
// A loopback address of its own, so port 53 (which glibc insists on) is free for this suite.
const DNS_ADDRESS = `127.53.${(process.pid >> 8) & 255}.${(process.pid & 254) + 1}`;
const UPSTREAM_ADDRESS = '127.0.0.54';

/** A fake upstream resolver: knows one name, answers over UDP only. */
async function startFakeUpstream(): Promise<{ port: number; queries: string[]; close(): Promise<void> }> {
  const queries: string[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg) as DecodedPacket;
    const name = q.questions?.[0]?.name ?? '';
    queries.push(name);
    const known = name === 'www.example.test';
    const reply = dnsPacket.encode({
      type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3), questions: q.questions,
      answers: known ? [{ type: 'A', name, ttl: 60, data: '192.0.2.7' }] : [],
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind({ address: UPSTREAM_ADDRESS, port: 0 }, () => r()));
  return { port: socket.address().port, queries, close: () => new Promise((r) => socket.close(() => r())) };
}

describe('cluster DNS', () => {
  let master: TestMaster;
  let dns: RunningClusterDns;
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let hello: Service;
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });

  beforeAll(async () => {
    master = await startTestMaster();
    upstream = await startFakeUpstream();
    hello = await master.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello', namespace: 'default' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    } as Service);
    await master.client.create(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'default' },
      spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] },
    } as Service);
    await master.client.create<EndpointSlice>(slicesRef, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'db-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.88.0.21'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.88.0.22'], hostname: 'db-1', conditions: { ready: true } },
        { addresses: ['10.88.0.23'], hostname: 'db-2', conditions: { ready: false } },
      ],
    } as EndpointSlice);
    dns = await startClusterDns({ client: master.client, address: DNS_ADDRESS, port: 53, upstreams: [{ address: UPSTREAM_ADDRESS, port: upstream.port }] });
    resolver.setServers([DNS_ADDRESS]);
  });

  afterAll(async () => {
    await dns?.stop();
    await upstream?.close();
    await master?.stop();
  });

  it('resolves a service name to its ClusterIP', async () => {
    expect(await resolver.resolve4('hello.default.svc.cluster.local')).toEqual([hello.spec?.clusterIP]);
    expect(await resolver.resolveSrv('_http._tcp.hello.default.svc.cluster.local')).toEqual([
      { name: 'hello.default.svc.cluster.local', port: 80, priority: 0, weight: 100 },
    ]);
  });

  it('resolves a headless service to its ready pod addresses, and each pod by hostname', async () => {
    expect((await resolver.resolve4('db.default.svc.cluster.local')).sort()).toEqual(['10.88.0.21', '10.88.0.22']);
    expect(await resolver.resolve4('db-1.db.default.svc.cluster.local')).toEqual(['10.88.0.22']);
  });

  it('answers NXDOMAIN for unknown cluster names without asking upstream', async () => {
    const before = upstream.queries.length;
    await expect(resolver.resolve4('nope.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('hello.other.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(upstream.queries.length).toBe(before);
  });

  it('forwards other names to the upstream resolver', async () => {
    expect(await resolver.resolve4('www.example.test')).toEqual(['192.0.2.7']);
    expect(upstream.queries).toContain('www.example.test');
    await expect(resolver.resolve4('missing.example.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers over TCP too', async () => {
    const reply = await queryTcp(DNS_ADDRESS, dns.port, 'hello.default.svc.cluster.local');
    expect(reply.answers?.map((a) => (a as { data?: unknown }).data)).toEqual([hello.spec?.clusterIP]);
  });

  it('resolves short names through a pod-style search path with ndots:5 (glibc)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-dns-'));
    try {
      fs.writeFileSync(path.join(dir, 'resolv.conf'), `nameserver ${DNS_ADDRESS}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:1\n`);
      fs.writeFileSync(path.join(dir, 'nsswitch.conf'), 'hosts: files dns\n');
      const getent = (name: string): Promise<string> =>
        new Promise((resolve) => {
          const script = `mount --bind ${dir}/resolv.conf /etc/resolv.conf && mount --bind ${dir}/nsswitch.conf /etc/nsswitch.conf && getent ahostsv4 ${name} | head -1`;
          execFile('unshare', ['-m', 'sh', '-c', script], { timeout: 10_000 }, (_err, stdout) => resolve(String(stdout).split(/\s+/)[0]));
        });
      expect(await getent('hello')).toBe(hello.spec?.clusterIP);
      expect(await getent('hello.default')).toBe(hello.spec?.clusterIP);
      expect(await getent('www.example.test')).toBe('192.0.2.7');
      expect(await getent('nothere')).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the address in the message when it cannot bind, or waits for the address when asked to', async () => {
    // 192.0.2.0/24 is documentation space: never on this machine.
    await expect(startClusterDns({ client: master.client, address: '192.0.2.53', port: 0, upstreams: [] })).rejects.toThrow(/cannot listen on tcp 192\.0\.2\.53:0: .*EADDRNOTAVAIL/);
    const waiting = await startClusterDns({ client: master.client, address: '192.0.2.53', port: 1053, upstreams: [], waitForAddressMs: 20 });
    const state = await Promise.race([waiting.ready.then(() => 'bound'), new Promise((r) => setTimeout(() => r('waiting'), 200))]);
    expect(state).toBe('waiting');
    await waiting.stop();
  });

  it('stops resolving a deleted service', async () => {
    await master.client.delete(core('services', 'default', 'hello'));
    const deadline = Date.now() + 5000;
    for (;;) {
      const result = await resolver.resolve4('hello.default.svc.cluster.local').then(() => 'found', (e: NodeJS.ErrnoException) => e.code);
      if (result === 'ENOTFOUND') break;
      if (Date.now() > deadline) throw new Error(`hello still resolves 5 s after deletion (${result})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  });
});

function queryTcp(host: string, port: number, name: string): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    socket.setTimeout(3000, () => reject(new Error('TCP DNS query timed out')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(frame(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }))));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        socket.destroy();
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))) as DecodedPacket);
      }
    });
  });
}
