import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Lease } from 'kubernetes-types/coordination/v1';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { core } from '../../kube/resource-path';
import { ApiError } from '../../kube/api-error';
import { startHollowNodes } from '../../agent/hollow/hollow-nodes';
import { ensureTestImage, removeLabelledContainers, startPodmanService, type PodmanService } from '../support/podman';
import { startTestMaster, type TestMaster } from '../support/master';
import { kubectl, kubectlStream } from '../support/kubectl';
import { bundleAgent, spawnAgent, type AgentProcess } from './agent-process';
import { waitFor } from './pods/pod-harness';

const NODE = `agent-test-${process.pid}`;
let podman: PodmanService;
let master: TestMaster;
let image: string;
let bundle: string;
let dir: string;
let agent: AgentProcess;

const leaseRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: NODE };

function agentArgs(): string[] {
  return [
    '--server', master.url, '--token', master.joinToken, '--ca-file', path.join(dir, 'ca.crt'),
    '--node-name', NODE, '--data-dir', path.join(dir, 'agent'), '--runtime', 'podman',
    '--runtime-endpoint', podman.endpoint, '--kubelet-port', '0', '--address', '127.0.0.1',
    '--restart-backoff', '0.5', '--lease-interval', '1',
  ];
}

async function startAgentProcess(): Promise<AgentProcess> {
  const a = spawnAgent(bundle, agentArgs());
  await waitFor('agent registered', () => /registered/.test(a.output()) || (a.child.exitCode !== null && Promise.reject(new Error(`agent exited: ${a.output()}`))), 30_000, () => a.output());
  return a;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-agent-it-'));
  // One at a time, so afterAll can clean up whatever did start when a later step fails.
  podman = await startPodmanService();
  master = await startTestMaster();
  image = await ensureTestImage();
  bundle = await bundleAgent();
  fs.writeFileSync(path.join(dir, 'ca.crt'), master.caPem);
  agent = await startAgentProcess();
}, 90_000);

afterAll(async () => {
  await agent?.stop();
  await removeLabelledContainers(`io.lotse.node=${NODE}`);
  await master?.stop();
  await podman?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  if (bundle) fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
}, 60_000);

async function createPod(name: string, spec: Pod['spec']): Promise<Pod> {
  return master.client.create<Pod>(core('pods', 'default'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 3, ...spec } as Pod['spec'],
  } as Pod);
}

async function getPod(name: string): Promise<Pod | undefined> {
  return master.client.get<Pod>(core('pods', 'default', name)).catch((err) => (ApiError.isNotFound(err) ? undefined : Promise.reject(err)));
}

async function waitRunning(name: string, timeoutMs = 30_000): Promise<Pod> {
  return waitFor(`pod ${name} Running and Ready`, async () => {
    const p = await getPod(name);
    return p?.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p;
  }, timeoutMs, () => agent.output().slice(-2000));
}

test('the agent registers a Ready node with capacity, labels, nodeInfo and a Lease it renews', async () => {
  const node = await waitFor('node Ready', async () => {
    const n = await master.client.get<Node>(core('nodes', undefined, NODE)).catch(() => undefined);
    return n?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && n;
  });
  expect(node.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': NODE, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': expect.stringMatching(/amd64|arm64/) });
  expect(Number(node.status?.capacity?.cpu)).toBe(os.cpus().length);
  expect(node.status?.capacity?.pods).toBe('110');
  expect(node.status?.allocatable?.memory).toMatch(/^\d+Ki$/);
  expect(node.status?.nodeInfo).toMatchObject({ kernelVersion: os.release(), containerRuntimeVersion: expect.stringMatching(/^podman:\/\/\d/), operatingSystem: 'linux' });
  expect(node.status?.addresses).toEqual(expect.arrayContaining([{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE }]));
  expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBeGreaterThan(0);
  expect(node.status?.conditions?.map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
  const first = await master.client.get<Lease>(leaseRef);
  expect(first.spec?.holderIdentity).toBe(NODE);
  expect(first.spec?.leaseDurationSeconds).toBe(40);
  await waitFor('lease renewed', async () => (await master.client.get<Lease>(leaseRef)).spec?.renewTime !== first.spec?.renewTime, 10_000);
});

test('a pod runs; kubectl logs and exec reach it through the master', async () => {
  await createPod('web', {
    containers: [{ name: 'main', image, command: ['sh', '-c', 'for i in 1 2 3; do echo line-$i; done; while true; do echo tick; sleep 0.3; done'] }],
  });
  const pod = await waitRunning('web');
  expect(pod.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(pod.status?.hostIP).toBe('127.0.0.1');
  const kc = master.kubeconfigPath;
  const logs = await kubectl(kc, ['logs', 'web', '--tail', '-1']);
  expect(logs.stderr).toBe('');
  expect(logs.stdout.startsWith('line-1\nline-2\nline-3\n')).toBe(true);
  const stamped = await kubectl(kc, ['logs', 'web', '-c', 'main', '--timestamps', '--tail', '1']);
  // podman stamps whole seconds, docker nanoseconds: both are RFC 3339.
  expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z tick\n$/);
  const follow = kubectlStream(kc, ['logs', '-f', 'web', '--tail', '1']);
  try {
    await follow.waitFor(/tick\n(.|\n)*tick\n(.|\n)*tick\n/, 10_000);
  } finally {
    follow.stop();
  }
  const exec = await kubectl(kc, ['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 4']);
  expect(exec.stdout).toBe('out\n');
  expect(exec.stderr).toContain('err\n');
  expect(exec.code).toBe(4);
  const stdin = await kubectl(kc, ['exec', '-i', 'web', '--', 'sh', '-c', 'busybox wc -c'], 'hello over stdin');
  expect(stdin.stdout.trim()).toBe('16');
  expect(stdin.code).toBe(0);
});

test('kubectl logs --previous shows the container instance before the restart', async () => {
  await createPod('crashy', { containers: [{ name: 'main', image, command: ['sh', '-c', 'echo instance-$RANDOM$RANDOM; sleep 1; exit 1'] }] });
  await waitFor('a restart', async () => {
    const p = await getPod('crashy');
    const c = p?.status?.containerStatuses?.[0];
    return (c?.restartCount ?? 0) >= 1 && c?.state?.running && p;
  }, 30_000);
  const kc = master.kubeconfigPath;
  const previous = await waitFor('previous logs', async () => {
    const r = await kubectl(kc, ['logs', 'crashy', '--previous']);
    return r.code === 0 && /^instance-\d+\n$/.test(r.stdout) && r.stdout;
  }, 10_000);
  const current = await waitFor('current logs', async () => {
    const r = await kubectl(kc, ['logs', 'crashy']);
    return r.code === 0 && /^instance-\d+\n$/.test(r.stdout) && r.stdout;
  }, 10_000);
  expect(current).not.toBe(previous);
  await master.client.delete(core('pods', 'default', 'crashy'));
});

test('kubectl exec -it gets a terminal (run under script(1) for a pty)', async () => {
  await createPod('term', { containers: [{ name: 'main', image, command: ['sh', '-c', 'exec sleep 3600'] }] });
  await waitRunning('term');
  const { execFile } = await import('node:child_process');
  const cmd = `kubectl --kubeconfig ${master.kubeconfigPath} exec -it term -- sh -c 'busybox tty; echo done'`;
  const out = await new Promise<string>((resolve) => {
    execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 20_000 }, (_err, stdout, stderr) => resolve(String(stdout) + String(stderr)));
  });
  expect(out).toMatch(/\/dev\/pts\/\d+/);
  expect(out).toContain('done');
});

test('kubectl delete waits for a graceful stop; the containers go', async () => {
  const pod = await createPod('bye', { containers: [{ name: 'main', image, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.1; done"] }] });
  await waitRunning('bye');
  const r = await kubectl(master.kubeconfigPath, ['delete', 'pod', 'bye', '--timeout=30s']);
  expect(r.code).toBe(0);
  expect(await getPod('bye')).toBeUndefined();
  await waitFor('containers removed', async () => {
    const { DockerRuntime } = await import('../../agent/runtime/docker-runtime');
    const rt = new DockerRuntime({ endpoint: { socketPath: podman.socketPath }, nodeName: NODE });
    try {
      return (await rt.listContainers(pod.metadata?.uid)).length === 0;
    } finally {
      rt.close();
    }
  }, 15_000);
});

test('after kill -9 a restarted agent adopts its pods without restarting them', async () => {
  await createPod('steady', { containers: [{ name: 'main', image, command: ['sh', '-c', 'exec sleep 3600'] }] });
  const before = await waitRunning('steady');
  await agent.kill9();
  agent = await startAgentProcess();
  // The agent re-reports status; the container is the same one and was not restarted.
  await new Promise((r) => setTimeout(r, 2500));
  const after = await waitRunning('steady');
  expect(after.status?.containerStatuses?.[0].containerID).toBe(before.status?.containerStatuses?.[0].containerID);
  expect(after.status?.containerStatuses?.[0].restartCount).toBe(0);
  expect(after.status?.containerStatuses?.[0].state?.running?.startedAt).toBe(before.status?.containerStatuses?.[0].state?.running?.startedAt);
});

test('pods keep running across a master restart and the agent carries on', async () => {
  await createPod('survivor', { containers: [{ name: 'main', image, command: ['sh', '-c', 'exec sleep 3600'] }] });
  const before = await waitRunning('survivor');
  master = await master.restart();
  const lease = await waitFor('lease readable', () => master.client.get<Lease>(leaseRef).catch(() => undefined), 15_000);
  await waitFor('lease renewed after restart', async () => (await master.client.get<Lease>(leaseRef)).spec?.renewTime !== lease.spec?.renewTime, 15_000);
  const after = await waitRunning('survivor');
  expect(after.status?.containerStatuses?.[0].containerID).toBe(before.status?.containerStatuses?.[0].containerID);
  // New work after the restart still reaches the agent (its watch came back).
  await createPod('newcomer', { containers: [{ name: 'main', image, command: ['sh', '-c', 'exec sleep 3600'] }] });
  await waitRunning('newcomer');
});

test('hollow nodes register, keep their Leases and run pods without containers', async () => {
  const hollow = await startHollowNodes({ server: master.url, caPem: master.caPem, token: master.joinToken, count: 5, namePrefix: 'hollow', dataDir: dir, leaseIntervalMs: 1000 });
  try {
    const nodes = await master.client.list<Node>(core('nodes'));
    expect(nodes.items.map((n) => n.metadata?.name).filter((n) => n?.startsWith('hollow-')).sort()).toEqual(['hollow-0', 'hollow-1', 'hollow-2', 'hollow-3', 'hollow-4']);
    await master.client.create(core('pods', 'default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ghost', namespace: 'default' }, spec: { nodeName: 'hollow-3', containers: [{ name: 'c', image: 'nginx:1.27' }] } } as Pod);
    const ghost = await waitFor('hollow pod Running', async () => {
      const p = await getPod('ghost');
      return p?.status?.phase === 'Running' && p;
    }, 15_000);
    expect(ghost.status?.podIP).toMatch(/^10\./);
    for (const n of ['hollow-0', 'hollow-4']) {
      const l = await master.client.get<Lease>({ ...leaseRef, name: n });
      expect(Date.now() - Date.parse(l.spec?.renewTime ?? '')).toBeLessThan(5_000);
    }
    await master.client.delete(core('pods', 'default', 'ghost'));
    await waitFor('hollow pod deleted', async () => (await getPod('ghost')) === undefined, 15_000);
  } finally {
    await hollow.stop();
  }
});
