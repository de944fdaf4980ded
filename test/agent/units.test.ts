import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { Backoff } from '../../agent/pods/backoff';
import { expandVars } from '../../agent/pods/container-config';
import { fieldRefValue } from '../../kube/field-ref';
import { microTime } from '../../agent/node/lease-renewer';
import { buildNodeStatus, hollowFacts } from '../../agent/node/node-status';
import { buildPodStatus, type WorkerView } from '../../agent/pods/pod-status-builder';
import { parseEndpoint } from '../../agent/runtime/endpoint';
import { pauseBinary, singleFileTar } from '../../agent/runtime/pause-image';
import type { RuntimeContainer } from '../../agent/runtime/container-runtime';
import { StartFailures } from '../../agent/pods/start-failures';

test('restart back-off starts at the base, doubles to the cap and resets after quiet time', () => {
  let now = 0;
  const b = new Backoff(10_000, 300_000, 600_000, () => now);
  const delays = Array.from({ length: 7 }, () => b.next('p/c'));
  expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  expect(b.remaining('p/c')).toBe(300_000);
  now += 300_000 + 600_001;
  expect(b.next('p/c')).toBe(10_000);
});

test('$(VAR) expansion follows Kubernetes: known names, $$ escapes, unknown stay', () => {
  const env = new Map([['A', 'x'], ['B', 'y']]);
  expect(expandVars('$(A)-$(B)-$(C)-$$(A)', env)).toBe('x-y-$(C)-$(A)');
});

test('downward API field refs', () => {
  const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { b: '2', a: '1' } }, spec: { nodeName: 'n1', containers: [] } };
  expect(fieldRefValue(pod, 'metadata.name', 'h')).toBe('p');
  expect(fieldRefValue(pod, "metadata.labels['a']", 'h')).toBe('1');
  expect(fieldRefValue(pod, 'metadata.labels', 'h')).toBe('a="1"\nb="2"');
  expect(fieldRefValue(pod, 'status.hostIP', '10.0.0.1')).toBe('10.0.0.1');
  expect(() => fieldRefValue(pod, 'spec.nope', 'h')).toThrow(/not supported/);
});

test('lease times carry microseconds', () => {
  expect(microTime(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678000Z');
});

test('runtime endpoints: unix and tcp URLs, bare paths, errors for the rest', () => {
  expect(parseEndpoint('unix:///run/podman/podman.sock')).toEqual({ socketPath: '/run/podman/podman.sock' });
  expect(parseEndpoint('tcp://10.0.0.5:2375')).toEqual({ host: '10.0.0.5', port: 2375, protocol: 'http' });
  expect(() => parseEndpoint('ssh://x')).toThrow(/unix:\/\/\/PATH/);
});

test('the pause binary is a static ELF for x86_64 and arm64, packed in a valid tar', () => {
  const x64 = pauseBinary('x64');
  expect(x64.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(x64.readUInt16LE(18)).toBe(0x3e);
  expect(pauseBinary('arm64').readUInt16LE(18)).toBe(0xb7);
  expect(() => pauseBinary('mips')).toThrow(/--pause-image/);
  const tar = singleFileTar('pause', x64);
  expect(tar.length % 512).toBe(0);
  const header = tar.subarray(0, 512);
  const stored = parseInt(header.subarray(148, 154).toString(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  expect(stored).toBe(sum);
  expect(parseInt(header.subarray(124, 135).toString(), 8)).toBe(x64.length);
});

function container(over: Partial<RuntimeContainer>): RuntimeContainer {
  return { id: 'c1', pod: { uid: 'u', name: 'p', namespace: 'd' }, name: 'main', kind: 'app', attempt: 0, specHash: '', state: 'running', createdAt: new Date(0), startedAt: new Date(1000), image: 'i', imageId: 'sha256:1', ...over };
}

const view = (over: Partial<WorkerView> = {}): WorkerView => ({
  podIP: '10.0.0.2', hostIP: '10.0.0.1', startTime: '2026-01-01T00:00:00Z', waiting: new Map(), containerIdPrefix: 'docker://',
  isReady: () => true, isStarted: () => true, ...over,
});

const pod = (restartPolicy: string, init = false): Pod => ({
  metadata: { name: 'p', namespace: 'd', uid: 'u' },
  spec: { restartPolicy, containers: [{ name: 'main', image: 'i' }], ...(init ? { initContainers: [{ name: 'init', image: 'i' }] } : {}) },
});

test('pod phase follows the kubelet: Pending, Running, Succeeded, Failed, and init containers gate', () => {
  expect(buildPodStatus(pod('Always'), [], view()).phase).toBe('Pending');
  expect(buildPodStatus(pod('Always'), [container({})], view()).phase).toBe('Running');
  const exited0 = container({ state: 'exited', exitCode: 0, finishedAt: new Date(2000) });
  const exited1 = container({ state: 'exited', exitCode: 1, finishedAt: new Date(2000) });
  expect(buildPodStatus(pod('Never'), [exited0], view()).phase).toBe('Succeeded');
  expect(buildPodStatus(pod('Never'), [exited1], view()).phase).toBe('Failed');
  expect(buildPodStatus(pod('OnFailure'), [exited0], view()).phase).toBe('Succeeded');
  const looping = buildPodStatus(pod('Always'), [exited1], view({ waiting: new Map([['main', { reason: 'CrashLoopBackOff', message: 'back-off' }]]) }));
  expect(looping.phase).toBe('Running');
  expect(looping.containerStatuses?.[0].state?.waiting?.reason).toBe('CrashLoopBackOff');
  expect(looping.containerStatuses?.[0].lastState?.terminated?.exitCode).toBe(1);
  const initPending = buildPodStatus(pod('Always', true), [], view());
  expect(initPending.phase).toBe('Pending');
  expect(initPending.containerStatuses?.[0].state?.waiting?.reason).toBe('PodInitializing');
  expect(initPending.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('False');
  const notReady = buildPodStatus(pod('Always'), [container({})], view({ isReady: () => false }));
  expect(notReady.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  expect(notReady.qosClass).toBe('BestEffort');
});

test('a container whose start failed is terminated (StartError, 128) under Never and waits under OnFailure; remembered on disk', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-start-failures-'));
  try {
    const created = container({ state: 'created', startedAt: undefined });
    new StartFailures((uid) => path.join(dir, uid)).record('u', 'c1', 'starting the container failed: exec: "/nope": no such file', new Date(5000));
    // A fresh instance (a restarted agent) reads what the first one wrote.
    const [failed] = new StartFailures((uid) => path.join(dir, uid)).apply('u', [created]);
    expect(failed).toMatchObject({ state: 'exited', exitCode: 128, reason: 'StartError', finishedAt: new Date(5000) });
    const never = buildPodStatus(pod('Never'), [failed], view({ waiting: new Map([['main', { reason: 'RunContainerError', message: 'x' }]]) }));
    expect(never.phase).toBe('Failed');
    expect(never.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 128, reason: 'StartError', message: expect.stringContaining('/nope') });
    const onFailure = buildPodStatus(pod('OnFailure'), [failed], view({ waiting: new Map([['main', { reason: 'RunContainerError', message: 'x' }]]) }));
    expect(onFailure.containerStatuses?.[0].state?.waiting?.reason).toBe('RunContainerError');
    expect(onFailure.containerStatuses?.[0].lastState?.terminated?.reason).toBe('StartError');
    // Without a record, a created container is one that has yet to start.
    expect(new StartFailures((uid) => path.join(dir, uid)).apply('other', [created])[0].state).toBe('created');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('node status: capacity, allocatable, conditions, and Ready false when the runtime is down', () => {
  const id = { name: 'n1', addresses: ['10.0.0.1'], kubeletPort: 10250, maxPods: 110, runtimeVersion: 'docker://24' };
  const ok = buildNodeStatus(id, hollowFacts(), undefined, undefined);
  expect(ok.capacity).toMatchObject({ cpu: '4', memory: `${16 * 1024 * 1024}Ki`, pods: '110' });
  expect(ok.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  const down = buildNodeStatus(id, hollowFacts(), 'connect ENOENT', ok.conditions);
  const ready = down.conditions?.find((c) => c.type === 'Ready');
  expect(ready).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
  expect(ready?.message).toContain('connect ENOENT');
  const mem = down.conditions?.find((c) => c.type === 'MemoryPressure');
  expect(mem?.lastTransitionTime).toBe(ok.conditions?.find((c) => c.type === 'MemoryPressure')?.lastTransitionTime);
});

test('httpGet and tcpSocket probes: 2xx/3xx pass, 500 and refused connections fail with the reason', async () => {
  const http = await import('node:http');
  const { runProbe } = await import('../../agent/probes/probers');
  const { FakeRuntime } = await import('../../agent/hollow/fake-runtime');
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/ok' ? 200 : req.url === '/moved' ? 302 : 500);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const env = { runtime: new FakeRuntime('n'), containerId: 'x', podIP: '127.0.0.1', container: { name: 'c', ports: [{ name: 'web', containerPort: port }] } };
  try {
    expect((await runProbe({ httpGet: { path: '/ok', port: 'web' } }, env)).ok).toBe(true);
    expect((await runProbe({ httpGet: { path: '/moved', port } }, env)).ok).toBe(true);
    expect(await runProbe({ httpGet: { path: '/bad', port } }, env)).toEqual({ ok: false, message: 'HTTP probe failed with statuscode: 500' });
    expect((await runProbe({ tcpSocket: { port } }, env)).ok).toBe(true);
  } finally {
    await new Promise((r) => server.close(r));
  }
  const refused = await runProbe({ tcpSocket: { port } }, env);
  expect(refused.ok).toBe(false);
  expect(refused.message).toMatch(/ECONNREFUSED/);
  expect((await runProbe({ httpGet: { path: '/', port: 'nope' } }, env)).message).toMatch(/names no port/);
});
