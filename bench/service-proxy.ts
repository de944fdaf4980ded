/**
 * Service proxy benchmark: requests/s and latency through ClusterIP and NodePort against direct
 * backend access (kernel mode in a private network namespace with busybox httpd backends;
 * userspace mode on loopback with Node http backends), proxy RSS with 100 services and 1,000
 * endpoints, and the time from an EndpointSlice change to the proxy honouring it.
 *   npx esbuild bench/service-proxy.ts --bundle --platform=node --external:better-sqlite3 --outfile=/tmp/bench-sp.js \
 *     && node /tmp/bench-sp.js [--runs 3] [--seconds 4] [--connections 16]
 * Needs root (ip netns, nft) and wrk. Prints JSON lines, then a markdown summary.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { startServiceProxy, type ProxyMode, type RunningServiceProxy } from '../agent/proxy/service-proxy';
import { KubeClient } from '../kube/client';
import { core, type ResourceRef } from '../kube/resource-path';
import { startTestMaster, type TestMaster } from '../test/support/master';
import { createNetns, type TestNetns } from '../test/agent/proxy/netns';
import { wrk, type WrkResult } from './wrk';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('runs', 3);
const SECONDS = arg('seconds', 4);
const CONNECTIONS = arg('connections', 16);
const slices = (ns = 'default', name?: string): ResourceRef => ({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: ns, name });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(label: string, url: string, netns?: string): Promise<WrkResult & { label: string }> {
  const runs: WrkResult[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await wrk(url, { connections: CONNECTIONS, seconds: SECONDS, netns }));
  const result = { label, rps: median(runs.map((r) => r.rps)), p50ms: median(runs.map((r) => r.p50ms)), p99ms: median(runs.map((r) => r.p99ms)) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result;
}

function service(name: string, ns = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 80 }] } } as Service;
}

function slice(name: string, svc: string, ips: string[], port: number, ns = 'default'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4', ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

/** Time from sending an EndpointSlice update to the proxy having applied it, median of n toggles. */
async function changeLatency(master: TestMaster, proxy: RunningServiceProxy, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const current = await master.client.get<EndpointSlice>(slices('default', 'hello-1'));
    const ready = i % 2 === 1;
    current.endpoints![0].conditions = { ready };
    const want = ready ? 3 : 2;
    const start = process.hrtime.bigint();
    await master.client.update(slices('default', 'hello-1'), current);
    while (proxy.table().find((e) => e.name === 'hello')?.backends.length !== want) await new Promise((r) => setImmediate(r));
    await proxy.settled();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

async function loadServices(master: TestMaster): Promise<void> {
  await master.client.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulk' } });
  const work: Promise<unknown>[] = [];
  for (let s = 0; s < 100; s++) {
    const ips = Array.from({ length: 10 }, (_, e) => `10.${100 + (s >> 6)}.${s & 63}.${e + 2}`);
    work.push(master.client.create(core('services', 'bulk'), service(`svc-${s}`, 'bulk')).then(() => master.client.create(slices('bulk'), slice(`svc-${s}-1`, `svc-${s}`, ips, 8080, 'bulk'))));
    if (work.length >= 10) await Promise.all(work.splice(0));
  }
  await Promise.all(work);
}

/** A proxy in a process of its own, so its RSS is its own; resolves with that RSS once synced. */
async function childProxyRss(master: TestMaster, mode: ProxyMode, netns?: string): Promise<{ rssMb: number; stop(): void }> {
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-bench-sp-')), 'ca.crt');
  fs.writeFileSync(caFile, master.caPem);
  const child = spawn(process.execPath, [process.argv[1], 'child', mode, netns ?? '-', master.url, caFile, master.adminToken], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]);
    });
    child.on('exit', (code) => reject(new Error(`proxy child exited ${code}`)));
  });
  return { rssMb: (JSON.parse(line) as { rss: number }).rss / 1048576, stop: () => child.stdin.end() };
}

async function runChild(): Promise<void> {
  const [, , , mode, netns, server, caFile, token] = process.argv;
  const client = new KubeClient({ server, ca: fs.readFileSync(caFile), token });
  const proxy = await startServiceProxy({ client, nodeAddresses: ['127.0.0.1'], mode: mode as ProxyMode, netns: netns === '-' ? undefined : netns });
  await proxy.settled();
  await new Promise((r) => setTimeout(r, 1000));
  process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, ports: proxy.table().length })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void proxy.stop().then(() => (client.close(), process.exit(0))));
}

async function main(): Promise<void> {
  const master = await startTestMaster();
  const ns: TestNetns = await createNetns('10.0.0.1', ['10.0.0.11', '10.0.0.12', '10.0.0.13']);
  const backends: http.Server[] = [];
  let proxy: RunningServiceProxy | undefined;
  try {
    await ns.startHttpd({ '10.0.0.11': 'b1', '10.0.0.12': 'b2', '10.0.0.13': 'b3' });
    const hello = await master.client.create<Service>(core('services', 'default'), service('hello'));
    await master.client.create(slices(), slice('hello-1', 'hello', ['10.0.0.11', '10.0.0.12', '10.0.0.13'], 8080));
    proxy = await startServiceProxy({ client: master.client, nodeAddresses: ['10.0.0.1'], mode: 'kernel', netns: ns.name });
    // busybox httpd closes every connection, so each request is a new flow and the server keeps
    // it in TIME_WAIT; a few runs would exhaust the client ports towards one backend. The
    // namespace is ours, so let it drop TIME_WAIT state early (sockets and conntrack).
    await ns.exec(['sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=1024 65000', 'net.ipv4.tcp_max_tw_buckets=256']);
    await ns.exec(['sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_timeout_time_wait=1']);
    const kernel = [
      await measure('kernel: direct backend', 'http://10.0.0.11:8080/', ns.name),
      await measure('kernel: ClusterIP', `http://${hello.spec?.clusterIP}/`, ns.name),
      await measure('kernel: NodePort', `http://10.0.0.1:${hello.spec?.ports?.[0].nodePort}/`, ns.name),
    ];
    const change1 = await changeLatency(master, proxy, 11);
    await loadServices(master);
    await proxy.settled();
    const change100 = await changeLatency(master, proxy, 11);
    await proxy.stop();
    proxy = undefined;

    // Userspace: Node http backends on loopback, the proxy in a child process.
    let port = 0;
    for (const ip of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) {
      const server = http.createServer((_req, res) => res.end('ok\n'));
      await new Promise<void>((r) => server.listen({ host: ip, port }, () => r()));
      port = (server.address() as { port: number }).port;
      backends.push(server);
    }
    const local = await master.client.create<Service>(core('services', 'default'), service('local'));
    await master.client.create(slices(), slice('local-1', 'local', ['127.0.0.11', '127.0.0.12', '127.0.0.13'], port));
    const userspaceChild = await childProxyRss(master, 'userspace');
    const userspace = [
      await measure('userspace: direct backend', `http://127.0.0.11:${port}/`),
      await measure('userspace: NodePort', `http://127.0.0.1:${local.spec?.ports?.[0].nodePort}/`),
    ];
    const rssUserspace = userspaceChild.rssMb;
    userspaceChild.stop();
    const kernelChild = await childProxyRss(master, 'kernel', ns.name);
    const rssKernel = kernelChild.rssMb;
    kernelChild.stop();
    await new Promise((r) => setTimeout(r, 500));

    const rows = [...kernel, ...userspace].map((r) => `| ${r.label} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(2)} | ${r.p99ms.toFixed(2)} |`);
    process.stdout.write(
      [
        `\nService proxy (wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, median of ${RUNS}; ${os.cpus().length} cores)`,
        '| path | req/s | p50 ms | p99 ms |',
        '| --- | --- | --- | --- |',
        ...rows,
        '',
        `endpoint change → applied (kernel, median of 11): ${change1.toFixed(1)} ms with 1 service, ${change100.toFixed(1)} ms with 101 services / 1,003 endpoints`,
        `proxy RSS with 101 services / 1,003 endpoints: kernel ${rssKernel.toFixed(1)} MB, userspace ${rssUserspace.toFixed(1)} MB`,
        '',
      ].join('\n'),
    );
  } finally {
    await proxy?.stop().catch(() => undefined);
    for (const b of backends) b.close();
    await ns.destroy();
    await master.stop();
  }
}

if (process.argv[2] === 'child') void runChild();
else
  main().catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
