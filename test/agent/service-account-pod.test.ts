import { execFileSync } from 'node:child_process';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import { startServiceProxy, type RunningServiceProxy } from '../../agent/proxy/service-proxy';
import { core } from '../../kube/resource-path';
import { kubectlOk } from '../support/kubectl';
import { ensureKubectlImage, ensureTestImage } from '../support/podman';
import { startPodmanNode, type PodmanNode } from '../support/podman-node';
import { waitFor, type TestCluster } from '../master/controllers/cluster';

const NODE = `sa-e2e-${process.pid}`;
const TABLE = `lotse-sa-${process.pid}`;
/** podman's default bridge gateway: the address pods reach the host, and so the master, at. */
const GATEWAY = '10.88.0.1';
/** A service range of this suite alone, so the ClusterIP rules of suites running beside it never clash. */
const SERVICE_CIDR = `10.${200 + (process.pid % 50)}.0.0/16`;
const MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

function nftWorks(): boolean {
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

const describePodman = nftWorks() ? describe : describe.skip;

/** Issue 16's scenario: a pod reads its ServiceAccount token and calls the API through the kubernetes Service. */
describePodman('a pod calls the API with its ServiceAccount token, through the kubernetes Service', () => {
  let node: PodmanNode | undefined;
  let proxy: RunningServiceProxy | undefined;
  let c: TestCluster;

  beforeAll(async () => {
    node = await startPodmanNode(NODE, { master: { listen: '0.0.0.0:0', advertiseAddress: GATEWAY, serviceCidr: SERVICE_CIDR } });
    c = node.cluster;
    await c.startManager({ controllers: ['service-account'], rootCaPem: c.master.caPem });
    proxy = await startServiceProxy({ client: c.client, nodeAddresses: ['127.0.0.1'], mode: 'kernel', table: TABLE });
  }, 90_000);

  afterAll(async () => {
    await proxy?.stop().catch(() => undefined);
    await node?.stop();
  }, 60_000);

  it('mounts token, ca.crt and namespace, sets the service variables, and kubectl in the pod can do exactly what its Role allows', async () => {
    const image = await ensureKubectlImage();
    const kc = c.master.kubeconfigPath;
    await kubectlOk(kc, ['create', 'namespace', 'sa-e2e']);
    await waitFor('the default ServiceAccount and kube-root-ca.crt', async () => {
      const sa = await c.client.get(core('serviceaccounts', 'sa-e2e', 'default')).catch(() => undefined);
      const cm = await c.client.get(core('configmaps', 'sa-e2e', 'kube-root-ca.crt')).catch(() => undefined);
      return sa && cm;
    }, 20_000);
    await kubectlOk(kc, ['create', 'serviceaccount', 'reader', '-n', 'sa-e2e']);
    await kubectlOk(kc, ['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods', '-n', 'sa-e2e']);
    await kubectlOk(kc, ['create', 'rolebinding', 'reader-reads', '--role=pod-reader', '--serviceaccount=sa-e2e:reader', '-n', 'sa-e2e']);
    await waitFor('the kubernetes service with an endpoint in the proxy', async () => proxy!.table().find((e) => e.namespace === 'default' && e.name === 'kubernetes')?.backends.length === 1, 30_000);
    await proxy!.settled();

    // kubectl in the pod, with no kubeconfig: client-go's in-cluster configuration (the service
    // variables, the mounted token, the mounted CA verifying the certificate at the ClusterIP).
    const script = [
      `echo "host=$KUBERNETES_SERVICE_HOST port=$KUBERNETES_SERVICE_PORT https=$KUBERNETES_SERVICE_PORT_HTTPS link=$KUBERNETES_PORT_443_TCP"`,
      `echo "namespace=$(cat ${MOUNT}/namespace)"`,
      `echo "files=$(ls ${MOUNT} | tr '\\n' ,)"`,
      'kubectl get pods -n sa-e2e -o name 2>&1; echo "pods=$?"',
      'kubectl get secrets -n sa-e2e 2>&1; echo "secrets=$?"',
      'echo "whoami=$(kubectl auth whoami -o jsonpath={.status.userInfo.username} 2>&1)"',
      'echo ready',
      'while true; do if kubectl get configmaps -n sa-e2e -o name >/dev/null 2>&1; then echo "cm=yes"; else echo "cm=no"; fi; sleep 0.5; done',
    ].join('; ');
    await c.client.create(core('pods', 'sa-e2e'), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'caller', namespace: 'sa-e2e' },
      spec: { serviceAccountName: 'reader', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, env: [{ name: 'HOME', value: '/tmp' }], command: ['sh', '-c', script] }] },
    } as Pod);
    const logs = async (): Promise<string> => {
      const r = await c.client.raw('GET', '/api/v1/namespaces/sa-e2e/pods/caller/log');
      return r.status === 200 ? r.body : '';
    };
    const log = await waitFor('the pod to report', async () => (await logs()).includes('cm=') && logs(), 90_000, 500);
    const clusterIp = (await c.client.get<Service>(core('services', 'default', 'kubernetes'))).spec?.clusterIP;
    expect(log).toContain(`host=${clusterIp} port=443 https=443 link=tcp://${clusterIp}:443`);
    expect(log).toContain('namespace=sa-e2e');
    expect(log).toContain('files=ca.crt,namespace,token,');
    expect(log).toContain('pod/caller\npods=0');
    expect(log).toMatch(/forbidden: User "system:serviceaccount:sa-e2e:reader" cannot list[^\n]*secrets[\s\S]*secrets=1/);
    expect(log).toContain('whoami=system:serviceaccount:sa-e2e:reader');

    // A grant, then its removal, seen from inside the pod within seconds.
    const tail = async (): Promise<string> => (await logs()).trim().split('\n').pop() ?? '';
    expect(await tail()).toBe('cm=no');
    await kubectlOk(kc, ['create', 'role', 'cm-reader', '--verb=list', '--resource=configmaps', '-n', 'sa-e2e']);
    let t0 = Date.now();
    await kubectlOk(kc, ['create', 'rolebinding', 'reader-cm', '--role=cm-reader', '--serviceaccount=sa-e2e:reader', '-n', 'sa-e2e']);
    await waitFor('the pod allowed to list configmaps', async () => (await tail()) === 'cm=yes', 10_000, 200);
    const granted = Date.now() - t0;
    t0 = Date.now();
    await kubectlOk(kc, ['delete', 'rolebinding', 'reader-cm', '-n', 'sa-e2e']);
    await waitFor('the pod refused again', async () => (await tail()) === 'cm=no', 10_000, 200);
    const revoked = Date.now() - t0;
    expect(granted).toBeLessThan(10_000);
    expect(revoked).toBeLessThan(10_000);

    // The files the container saw: the cluster CA, and a token bound to this very pod.
    const pod = await c.client.get<Pod>(core('pods', 'sa-e2e', 'caller'));
    const volume = pod.spec?.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    expect(volume?.projected?.sources?.map((s) => Object.keys(s)[0])).toEqual(['serviceAccountToken', 'configMap', 'downwardAPI']);
  }, 180_000);

  it('mounts nothing when the pod or its ServiceAccount turns automount off', async () => {
    const image = await ensureTestImage();
    await kubectlOk(c.master.kubeconfigPath, ['create', 'serviceaccount', 'quiet', '-n', 'sa-e2e']);
    await kubectlOk(c.master.kubeconfigPath, ['patch', 'serviceaccount', 'quiet', '-n', 'sa-e2e', '--type=merge', '-p', '{"automountServiceAccountToken":false}']);
    const make = (name: string, spec: Record<string, unknown>) => c.client.create<Pod>(core('pods', 'sa-e2e'), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'sa-e2e' },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, command: ['sh', '-c', `ls ${MOUNT} 2>&1; echo done; exec sleep 3600`] }], ...spec },
    } as Pod);
    const bySa = await make('quiet-sa', { serviceAccountName: 'quiet' });
    const byPod = await make('quiet-pod', { automountServiceAccountToken: false });
    // The pod's own word wins over its ServiceAccount's.
    const loud = await make('loud-pod', { serviceAccountName: 'quiet', automountServiceAccountToken: true });
    for (const p of [bySa, byPod]) expect(p.spec?.volumes ?? []).toEqual([]);
    expect(loud.spec?.volumes?.[0]?.name).toMatch(/^kube-api-access-/);
    for (const name of ['quiet-sa', 'quiet-pod']) {
      const log = await waitFor(`${name} to report`, async () => {
        const r = await c.client.raw('GET', `/api/v1/namespaces/sa-e2e/pods/${name}/log`);
        return r.status === 200 && r.body.includes('done') && r.body;
      }, 60_000, 500);
      expect(log).toMatch(/No such file or directory/);
    }
  }, 120_000);
});
