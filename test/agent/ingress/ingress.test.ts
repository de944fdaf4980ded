import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { createCa, issueCertificate } from '../../../cluster/certificates';
import type { KubeObject } from '../../../kube/object';
import { core, type ResourceRef } from '../../../kube/resource-path';
import { listPods, waitFor } from '../../master/controllers/cluster';
import { kubectlOk } from '../../support/kubectl';
import { freePort } from '../../support/master-process';
import { startPodmanNode, type PodmanNode } from '../../support/podman-node';

const NODE = `ingress-${process.pid}`;
const ingressesRef = (name?: string): ResourceRef => ({ group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', namespace: 'default', name });
const slicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default' };

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One request to the node's ingress port with the given Host (and SNI for HTTPS). */
function request(port: number, host: string, path: string, secure = false, ca?: string): Promise<Answer & { peerCn?: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, headers: { host }, servername: host, ca, rejectUnauthorized: Boolean(ca), agent: false };
    const req = (secure ? https : http).get(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const peer = secure ? (res.socket as tls.TLSSocket).getPeerCertificate() : undefined;
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers, peerCn: peer?.subject?.CN as string | undefined });
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${host}${path}`)));
  });
}

/** The built-in ingress router of a real agent, in front of real podman pods and of servers in this process. */
describe('Ingress on a real podman node', () => {
  let node: PodmanNode;
  let httpPort: number;
  let httpsPort: number;
  let local: http.Server;
  let wss: WebSocketServer;
  const ca = createCa('ingress test CA');
  const cert = issueCertificate(ca, { commonName: 'shop.example.com', sans: ['shop.example.com'], serverAuth: true });
  const client = () => node.cluster.client;
  const kc = () => node.cluster.master.kubeconfigPath;

  beforeAll(async () => {
    httpPort = await freePort();
    httpsPort = await freePort();
    node = await startPodmanNode(NODE, {}, ['--ingress-http-port', String(httpPort), '--ingress-https-port', String(httpsPort), '--ingress-address', '127.0.0.1']);
    // A backend in this process, reached through a Service without selector and a hand-made
    // EndpointSlice: it echoes headers, streams, and speaks WebSocket.
    local = http.createServer((req, res) => {
      if (req.url?.endsWith('/stream')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first\n');
        setTimeout(() => res.end('second\n'), 1500);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    wss = new WebSocketServer({ server: local });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo: ${m.toString()}`)));
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    const localPort = (local.address() as AddressInfo).port;
    await client().create(core('services', 'default'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'local' }, spec: { ports: [{ name: 'web', port: 80 }] } } as KubeObject);
    await client().create(slicesRef, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'local-1', labels: { 'kubernetes.io/service-name': 'local' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'web', port: localPort, protocol: 'TCP' }],
    } as KubeObject);
    for (const app of ['shop', 'blog']) {
      await kubectlOk(kc(), ['create', 'deployment', app, '--image=localhost/lotse-hello:1', '--port=8080']);
      await kubectlOk(kc(), ['expose', 'deployment', app, '--port=80', '--target-port=8080']);
    }
    await waitFor('shop and blog pods ready', async () => {
      const pods = await listPods(client(), 'default');
      return pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length >= 2;
    }, 90_000);
  }, 180_000);

  afterAll(async () => {
    wss?.close();
    local?.close();
    await node?.stop();
  }, 60_000);

  test('routes two hosts and their paths to the right Services, 404 for unknown hosts, and fills the status', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') } };
    await client().create(core('secrets', 'default'), secret as KubeObject);
    await client().create(ingressesRef(), {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' },
      spec: {
        tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
        rules: [
          { host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } }, { path: '/echo', pathType: 'Prefix', backend: { service: { name: 'local', port: { name: 'web' } } } }] } },
          { host: 'blog.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'blog', port: { number: 80 } } } }] } },
        ],
      },
    } as KubeObject);
    // the admission gave it the default class
    expect(await kubectlOk(kc(), ['get', 'ingress', 'web', '-o', 'jsonpath={.spec.ingressClassName}'])).toBe('lotse');
    await waitFor('shop routed', async () => (await request(httpPort, 'shop.example.com', '/')).body.startsWith('hello from shop-'), 20_000);
    expect((await request(httpPort, 'blog.example.com', '/')).body).toMatch(/^hello from blog-/);
    const echoed = JSON.parse((await request(httpPort, 'shop.example.com', '/echo/x?y=1')).body) as { url: string; headers: Record<string, string> };
    expect(echoed.url).toBe('/echo/x?y=1');
    expect(echoed.headers).toMatchObject({ host: 'shop.example.com', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http' });
    const unknown = await request(httpPort, 'nobody.example.com', '/');
    expect(unknown.status).toBe(404);
    await waitFor('status.loadBalancer filled', async () => (await kubectlOk(kc(), ['get', 'ingress', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])) === '127.0.0.1', 20_000);
  }, 60_000);

  test('every node routes: a second node sends the same hosts to the pods of the first', async () => {
    const second = `${NODE}-b`;
    const port = await freePort();
    node.addAgent(second, ['--proxy-mode', 'none', '--ingress-address', '127.0.0.1', '--ingress-http-port', String(port)]);
    await waitFor('shop routed by the second node', async () => (await request(port, 'shop.example.com', '/').catch(() => undefined))?.body.startsWith('hello from shop-'), 30_000);
    expect((await request(port, 'blog.example.com', '/')).body).toMatch(/^hello from blog-/);
    const placed = (await listPods(client(), 'default')).map((p) => p.spec?.nodeName);
    expect(placed.length).toBeGreaterThanOrEqual(2);
    expect(placed.every((n) => n === NODE)).toBe(true);
  }, 60_000);

  test('terminates TLS with the Ingress Secret for its host, the node certificate for others', async () => {
    await waitFor('shop served over TLS with its certificate', async () => {
      const a = await request(httpsPort, 'shop.example.com', '/', true, ca.certPem).catch(() => undefined);
      return a?.peerCn === 'shop.example.com' && a.body.startsWith('hello from shop-');
    }, 20_000);
    const other = await request(httpsPort, 'blog.example.com', '/', true);
    expect(other.peerCn).toBe(`system:node:${NODE}`);
    expect(other.body).toMatch(/^hello from blog-/);
  }, 60_000);

  test('passes WebSockets and streamed responses through', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/echo/ws`, { headers: { host: 'shop.example.com' } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping'));
      ws.on('message', (m) => resolve(m.toString()));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).toBe('echo: ping');
    const first = await new Promise<{ chunk: string; at: number; end: Promise<number> }>((resolve, reject) => {
      const started = Date.now();
      http.get({ host: '127.0.0.1', port: httpPort, path: '/echo/stream', headers: { host: 'shop.example.com' } }, (res) => {
        const end = new Promise<number>((r) => res.on('end', () => r(Date.now() - started)));
        res.once('data', (c: Buffer) => resolve({ chunk: c.toString(), at: Date.now() - started, end }));
        res.resume();
      }).on('error', reject);
    });
    // the first chunk arrives while the backend still holds the response open
    expect(first.chunk).toBe('first\n');
    expect(first.at).toBeLessThan(1000);
    expect(await first.end).toBeGreaterThanOrEqual(1400);
  }, 30_000);

  test('follows a change of the rules within seconds', async () => {
    await client().patch(ingressesRef('web'), 'json', [{ op: 'replace', path: '/spec/rules/1/http/paths/0/backend/service/name', value: 'shop' }]);
    await waitFor('blog host now served by shop', async () => (await request(httpPort, 'blog.example.com', '/')).body.startsWith('hello from shop-'), 10_000, 100);
    await client().delete(ingressesRef('web'));
    await waitFor('no route once deleted', async () => (await request(httpPort, 'shop.example.com', '/')).status === 404, 10_000, 100);
  }, 30_000);
});
