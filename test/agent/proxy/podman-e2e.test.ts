import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { promises as dnsPromises } from 'node:dns';
import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import { startClusterDns, type RunningClusterDns } from '../../../agent/dns/cluster-dns';
import { startServiceProxy, type RunningServiceProxy } from '../../../agent/proxy/service-proxy';
import { apps, core } from '../../../kube/resource-path';
import { ensureTestImage } from '../../support/podman';
import { startPodmanNode, type PodmanNode } from '../../support/podman-node';
import { waitFor, type TestCluster } from '../../master/controllers/cluster';

const NODE = `proxy-e2e-${process.pid}`;
const TABLE = `lotse-e2e-${process.pid}`;
/** podman's default bridge gateway: what pods on it can reach. */
const POD_DNS_ADDRESS = '10.88.0.1';
const DNS_ADDRESS = `127.53.${(process.pid >> 8) & 255}.${(process.pid & 254) + 2}`;

function nftWorks(): boolean {
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

const describePodman = nftWorks() ? describe : describe.skip;

/** Issue 5's scenario with real containers: a Deployment on a real agent behind a Service. */
describePodman('service proxy and DNS in front of real podman pods', () => {
  let node: PodmanNode | undefined;
  let c: TestCluster | undefined;
  let proxy: RunningServiceProxy | undefined;
  let dns: RunningClusterDns | undefined;
  let podDns: RunningClusterDns | undefined;

  beforeAll(async () => {
    node = await startPodmanNode(NODE);
    const { client } = (c = node.cluster);
    proxy = await startServiceProxy({ client, nodeAddresses: ['127.0.0.1'], mode: 'kernel', table: TABLE });
    dns = await startClusterDns({ client, address: DNS_ADDRESS, port: 0, upstreams: [] });
  }, 90_000);

  afterAll(async () => {
    await proxy?.stop().catch(() => undefined);
    await dns?.stop();
    await podDns?.stop();
    await node?.stop();
  }, 60_000);

  it('spreads hello.default.svc.cluster.local over three replicas, then only the one left after scaling to 1', async () => {
    const cluster = c as TestCluster;
    const image = await ensureTestImage();
    await cluster.client.create(apps('deployments', 'default'), {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello', namespace: 'default' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'hello' } },
        template: {
          metadata: { labels: { app: 'hello' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: 'web', image, ports: [{ name: 'web', containerPort: 8080 }],
              command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'],
              readinessProbe: { httpGet: { path: '/', port: 'web' }, periodSeconds: 1 },
            }],
          },
        },
      },
    } as Deployment);
    const svc = await cluster.client.create<Service>(core('services', 'default'), {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello', namespace: 'default' },
      spec: { type: 'NodePort', selector: { app: 'hello' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] },
    } as Service);
    await waitFor('3 ready endpoints in the proxy', async () => proxy!.table().find((e) => e.name === 'hello')?.backends.length === 3, 90_000);
    await proxy!.settled();

    const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`${DNS_ADDRESS}:${dns!.port}`]);
    const [ip] = await resolver.resolve4('hello.default.svc.cluster.local');
    expect(ip).toBe(svc.spec?.clusterIP);
    const hosts = new Set<string>();
    for (let i = 0; i < 9; i++) hosts.add(await fetchText(`http://${ip}/`));
    expect(hosts.size).toBe(3);
    // NodePort from the host, on the node address (loopback here).
    const viaNodePort = new Set<string>();
    for (let i = 0; i < 6; i++) viaNodePort.add(await fetchText(`http://127.0.0.1:${svc.spec?.ports?.[0].nodePort}/`));
    expect(viaNodePort).toEqual(hosts);

    // From another pod: the bridge's gateway serves the cluster DNS, the host's prerouting hook
    // translates the ClusterIP. busybox-static's wget cannot use glibc's resolver, so the pod
    // resolves with busybox nslookup against the cluster DNS, then fetches.
    podDns = await startClusterDns({ client: cluster.client, address: POD_DNS_ADDRESS, port: 53, upstreams: [] });
    await cluster.client.create(core('pods', 'default'), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'default' },
      spec: {
        restartPolicy: 'Never', terminationGracePeriodSeconds: 1,
        containers: [{
          name: 'client', image,
          command: ['sh', '-c', `ip=$(nslookup hello.default.svc.cluster.local ${POD_DNS_ADDRESS} | sed -n 's/^Address: *//p' | tail -1); echo "ip=$ip"; for i in 1 2 3 4 5 6 7 8 9; do wget -qO- http://$ip/; done; echo done; sleep 3600`],
        }],
      },
    } as Pod);
    const log = await waitFor('the client pod to finish its requests', async () => {
      const r = await cluster.client.raw('GET', '/api/v1/namespaces/default/pods/client/log?container=client');
      return r.status === 200 && r.body.includes('done') && r.body;
    }, 60_000, 500);
    const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(lines[0]).toBe(`ip=${svc.spec?.clusterIP}`);
    const fromPod = lines.slice(1, -1);
    expect(fromPod).toHaveLength(9);
    expect(new Set(fromPod)).toEqual(hosts);

    await cluster.client.patch(apps('deployments', 'default', 'hello', 'scale'), 'merge', { spec: { replicas: 1 } });
    await waitFor('1 endpoint left', async () => proxy!.table().find((e) => e.name === 'hello')?.backends.length === 1, 60_000);
    await proxy!.settled();
    const left = new Set<string>();
    for (let i = 0; i < 4; i++) left.add(await fetchText(`http://${ip}/`));
    expect(left.size).toBe(1);
    expect(hosts.has([...left][0])).toBe(true);

    await cluster.client.delete(core('services', 'default', 'hello'));
    await waitFor('the name gone', async () => (await resolver.resolve4('hello.default.svc.cluster.local').then(() => false, () => true)), 10_000);
  }, 150_000);
});
