/**
 * Ingress benchmark: requests/s and latency through the agent's ingress router (HTTP, and HTTPS
 * with TLS terminated by it) against the direct path to the backend (the peer) and the NodePort
 * path of the userspace service proxy, in the same run. The backend is a Node http server in a
 * child process (a busybox httpd pod would be the bottleneck of every path); the master, the
 * ingress router and the service proxy run in this process, wrk loads from its own.
 *   npx esbuild bench/ingress.ts --bundle --platform=node --external:better-sqlite3 --outfile=/tmp/bench-ingress.js \
 *     && NODE_PATH=$PWD/node_modules node /tmp/bench-ingress.js [--runs 3] [--seconds 5] [--connections 32]
 * Needs wrk. Prints JSON lines, then a markdown table.
 */
import { execFile, spawn } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { startIngressController } from '../agent/ingress/ingress-controller';
import { startServiceProxy } from '../agent/proxy/service-proxy';
import { createCa, issueCertificate } from '../cluster/certificates';
import type { KubeObject } from '../kube/object';
import { core, type ResourceRef } from '../kube/resource-path';
import { freePort } from '../test/support/master-process';
import { startTestMaster } from '../test/support/master';
import { wrk, type WrkResult } from './wrk';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('runs', 3);
const SECONDS = arg('seconds', 5);
const CONNECTIONS = arg('connections', 32);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The backend: 2 KB answers with keep-alive, in a process of its own. */
function startBackend(port: number): { stop(): void } {
  const code = `require('http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'text/plain' }); s.end('x'.repeat(2048)); }).listen(${port}, '127.0.0.1', () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return { stop: () => child.kill() };
}

async function waitOk(url: string, host?: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await wrkOnce(url, host);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} never answered 200`);
}

function wrkOnce(url: string, host?: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-fsk', '-o', '/dev/null', ...(host ? ['-H', `Host: ${host}`, '--resolve', `${host}:${new URL(url).port}:127.0.0.1`] : []), url.replace('127.0.0.1', host && url.startsWith('https') ? host : '127.0.0.1')], (err) => (err ? reject(err) : resolve())),
  );
}

async function main(): Promise<void> {
  const master = await startTestMaster();
  const backendPort = await freePort();
  const backend = startBackend(backendPort);
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const ca = createCa('bench CA');
  const cert = issueCertificate(ca, { commonName: 'bench.example.com', sans: ['bench.example.com'], serverAuth: true });
  const client = master.client;
  const slicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default' };
  await client.create(core('services', 'default'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench' }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 80 }] } } as Service);
  await client.create(slicesRef, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'bench-1', labels: { 'kubernetes.io/service-name': 'bench' } }, addressType: 'IPv4', ports: [{ name: 'http', port: backendPort, protocol: 'TCP' }], endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] } as EndpointSlice);
  await client.create(core('secrets', 'default'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bench-tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') } } as KubeObject);
  await client.create({ group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', namespace: 'default' }, {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'bench' },
    spec: { tls: [{ hosts: ['bench.example.com'], secretName: 'bench-tls' }], rules: [{ host: 'bench.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'bench', port: { number: 80 } } } }] } }] },
  } as KubeObject);
  const svc = await client.get<Service>(core('services', 'default', 'bench'));
  const nodePort = svc.spec?.ports?.[0].nodePort ?? 0;
  const ingress = await startIngressController({ client, address: '127.0.0.1', httpPort, httpsPort, fallbackCertificate: cert, log: () => undefined });
  const proxy = await startServiceProxy({ client, nodeAddresses: ['127.0.0.1'], mode: 'userspace', log: () => undefined });
  await ingress.settled();
  await proxy.settled();
  const paths: { label: string; url: string; host?: string }[] = [
    { label: 'direct to the backend (peer)', url: `http://127.0.0.1:${backendPort}/` },
    { label: 'ingress, HTTP', url: `http://127.0.0.1:${httpPort}/`, host: 'bench.example.com' },
    { label: 'ingress, HTTPS (TLS terminated)', url: `https://127.0.0.1:${httpsPort}/`, host: 'bench.example.com' },
    { label: 'NodePort (userspace proxy, as lotse up on 127.0.0.1)', url: `http://127.0.0.1:${nodePort}/` },
  ];
  for (const p of paths) await waitOk(p.url, p.host);
  const results: (WrkResult & { label: string })[] = [];
  for (const p of paths) {
    const runs: WrkResult[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await wrk(p.url, { connections: CONNECTIONS, seconds: SECONDS, host: p.host }));
    const r = { label: p.label, rps: median(runs.map((x) => x.rps)), p50ms: median(runs.map((x) => x.p50ms)), p99ms: median(runs.map((x) => x.p99ms)) };
    process.stdout.write(`${JSON.stringify(r)}\n`);
    results.push(r);
  }
  const direct = results[0];
  const nodePortResult = results[3];
  process.stdout.write(`\n| path | req/s | p50 | p99 | req/s vs direct | req/s vs NodePort |\n| --- | ---: | ---: | ---: | ---: | ---: |\n`);
  for (const r of results) {
    process.stdout.write(`| ${r.label} | ${Math.round(r.rps).toLocaleString('en')} | ${r.p50ms.toFixed(2)} ms | ${r.p99ms.toFixed(2)} ms | ${(r.rps / direct.rps).toFixed(2)} | ${(r.rps / nodePortResult.rps).toFixed(2)} |\n`);
  }
  await ingress.stop();
  await proxy.stop();
  backend.stop();
  await master.stop();
  process.exit(0);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
