import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { startAgent, type RunningAgent } from '../../../agent/agent';
import { DockerRuntime } from '../../../agent/runtime/docker-runtime';
import { core } from '../../../kube/resource-path';
import { waitFor } from '../../master/controllers/cluster';
import { ensureTestImage, removeLabelledContainers, startPodmanService, type PodmanService } from '../../support/podman';
import { startTestMaster, type TestMaster } from '../../support/master';

// A real agent on a podman service of its own against a real master, with flannel's subnet.env
// written by the test: missing at start, written later, then changed (a re-leased node).
jest.setTimeout(120_000);
const execFileP = promisify(execFile);
const NODE = `podnet-${process.pid}`;
// Subnets of their own, so parallel suites' networks do not collide.
const octet = 100 + (process.pid % 100);
const FIRST = `10.${octet}.11.0/24`;
const SECOND = `10.${octet}.12.0/24`;

let podman: PodmanService;
let master: TestMaster;
let runtime: DockerRuntime;
let agent: RunningAgent | undefined;
let dir: string;
let subnetFile: string;
let image: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-podnet-'));
  subnetFile = path.join(dir, 'run-flannel', 'subnet.env');
  podman = await startPodmanService();
  master = await startTestMaster();
  image = await ensureTestImage();
  runtime = new DockerRuntime({ endpoint: { socketPath: podman.socketPath }, nodeName: NODE, pullTimeoutMs: 10_000 });
}, 90_000);

afterAll(async () => {
  await agent?.stop();
  runtime?.close();
  await removeLabelledContainers(`io.lotse.node=${NODE}`);
  for (const cidr of [FIRST, SECOND]) await execFileP('podman', ['network', 'rm', '-f', `lotse-flannel-${cidr.replace(/[./]/g, '-')}`]).catch(() => undefined);
  await master?.stop();
  await podman?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

const readyOf = async (): Promise<{ status?: string; message?: string } | undefined> =>
  (await master.client.get<Node>(core('nodes', undefined, NODE))).status?.conditions?.find((c) => c.type === 'Ready');

async function runPod(name: string, hostNetwork = false): Promise<Pod> {
  return master.client.create<Pod>(core('pods', 'default'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName: NODE, hostNetwork, containers: [{ name: 'main', image, imagePullPolicy: 'Never', command: ['sh', '-c', 'exec sleep 3600'] }] },
  } as Pod);
}
const podOf = (name: string): Promise<Pod> => master.client.get<Pod>(core('pods', 'default', name));
const writeSubnet = (cidr: string, mtu: number): void => {
  fs.mkdirSync(path.dirname(subnetFile), { recursive: true });
  const gateway = cidr.replace(/\.0\/24$/, '.1/24');
  fs.writeFileSync(subnetFile, `FLANNEL_NETWORK=10.${octet}.0.0/16\nFLANNEL_SUBNET=${gateway}\nFLANNEL_MTU=${mtu}\nFLANNEL_IPMASQ=true\n`);
};

test('without subnet.env the node is NotReady and pods wait; once flannel writes it they start on its subnet, and a changed file is followed', async () => {
  agent = await startAgent({
    server: master.url, caPem: master.caPem, token: master.joinToken, nodeName: NODE, dataDir: path.join(dir, 'agent'), runtime,
    kubeletPort: 0, addresses: ['127.0.0.1'], nodeStatusPeriodMs: 500, flannelSubnetFile: subnetFile, requirePodNetwork: true,
  });
  const notReady = await waitFor('node NotReady for the network', async () => ((await readyOf())?.status === 'False' ? readyOf() : undefined));
  expect(notReady?.message).toMatch(/^container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:waiting for the pod network: .*subnet\.env does not exist yet/);

  const waiting = await runPod('waits');
  const host = await runPod('host-net', true);
  // A hostNetwork pod needs no pod network, as under the kubelet; the other one waits, with no
  // sandbox on the engine's default network meanwhile.
  await waitFor('hostNetwork pod running', async () => (await podOf('host-net')).status?.containerStatuses?.[0]?.state?.running);
  const pending = await waitFor('waiting pod reports why', async () => {
    const st = (await podOf('waits')).status?.containerStatuses?.[0]?.state?.waiting;
    return st?.message?.includes('NetworkReady=false') ? st : undefined;
  });
  expect(pending.reason).toBe('ContainerCreating');
  expect(await runtime.listContainers(waiting.metadata?.uid)).toEqual([]);
  expect(host.metadata?.uid).toBeTruthy();

  writeSubnet(FIRST, 1400);
  await waitFor('node Ready', async () => (await readyOf())?.status === 'True');
  const ip = await waitFor('waiting pod got an IP', async () => (await podOf('waits')).status?.podIP);
  expect(ip.startsWith(`10.${octet}.11.`)).toBe(true);

  writeSubnet(SECOND, 1380);
  await waitFor('the second network exists', async () => {
    const r = await execFileP('podman', ['network', 'exists', `lotse-flannel-${SECOND.replace(/[./]/g, '-')}`]).then(() => true, () => false);
    return r || undefined;
  });
  await runPod('after-change');
  const ip2 = await waitFor('pod after the change got an IP', async () => (await podOf('after-change')).status?.podIP);
  expect(ip2.startsWith(`10.${octet}.12.`)).toBe(true);
  expect((await readyOf())?.status).toBe('True');
});
