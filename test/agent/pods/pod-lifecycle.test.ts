import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1';
import { DockerRuntime } from '../../../agent/runtime/docker-runtime';
import { ensureTestImage, removeLabelledContainers, startPodmanService, type PodmanService } from '../../support/podman';
import { makePod, PodHarness, waitFor } from './pod-harness';

const run = promisify(execFile);
const NODE = `pl-test-${process.pid}`;
let podman: PodmanService;
let runtime: DockerRuntime;
let image: string;
let h: PodHarness;

beforeAll(async () => {
  podman = await startPodmanService();
  image = await ensureTestImage();
  runtime = new DockerRuntime({ endpoint: { socketPath: podman.socketPath }, nodeName: NODE, pullTimeoutMs: 10_000 });
  h = new PodHarness(runtime, NODE);
  await h.start();
}, 60_000);

afterEach(() => {
  if (h?.log.length) process.stdout.write(`agent log:\n${h.log.join('\n')}\n`);
  if (h) h.log.length = 0;
});

afterAll(async () => {
  await h?.stop();
  runtime?.close();
  await removeLabelledContainers(`io.lotse.node=${NODE}`);
  await removeLabelledContainers(`lotse-test-bystander=${NODE}`);
  // Memory-backed emptyDirs of pods still there at the end (the adopted one).
  const volumes = await run('podman', ['volume', 'ls', '-q', '--filter', `label=io.lotse.node=${NODE}`]).then((r) => r.stdout.split('\n').filter(Boolean), () => []);
  if (volumes.length) await run('podman', ['volume', 'rm', '-f', ...volumes]).catch(() => undefined);
  await podman?.stop();
  if (h) fs.rmSync(h.dataDir, { recursive: true, force: true });
});

const sh = (script: string): { command: string[] } => ({ command: ['sh', '-c', script] });

function cs(pod: Pod, name: string) {
  return h.status(pod)?.containerStatuses?.find((c) => c.name === name);
}

function cond(pod: Pod, type: string): string | undefined {
  return h.status(pod)?.conditions?.find((c) => c.type === type)?.status;
}

test('a two-container pod shares localhost and an emptyDir, gets an IP and turns Ready', async () => {
  const pod = h.add(
    makePod('pair', {
      volumes: [{ name: 'shared', emptyDir: {} }],
      containers: [
        {
          name: 'server',
          image,
          ...sh('echo from-server > /data/index.html; exec httpd -f -p 8080 -h /data'),
          volumeMounts: [{ name: 'shared', mountPath: '/data' }],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/index.html', port: 'http' }, periodSeconds: 1 },
          livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, initialDelaySeconds: 1 },
          lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo hooked > /data/post-start'] } } },
        },
        { name: 'client', image, ...sh('until wget -q -O /work/got http://127.0.0.1:8080/; do sleep 0.2; done; exec sleep 3600'), volumeMounts: [{ name: 'shared', mountPath: '/work' }] },
      ],
    }),
  );
  const status = await waitFor('pair Running and Ready', () => h.status(pod)?.phase === 'Running' && cond(pod, 'Ready') === 'True' && h.status(pod), 20_000, () => h.status(pod));
  expect(status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(status.hostIP).toBe('127.0.0.1');
  expect(status.startTime).toBeTruthy();
  expect(status.containerStatuses?.map((c) => [c.name, !!c.state?.running, c.ready, c.restartCount])).toEqual([
    ['server', true, true, 0],
    ['client', true, true, 0],
  ]);
  expect(status.containerStatuses?.[0].imageID).toMatch(/^sha256:/);
  expect(status.containerStatuses?.[0].containerID).toMatch(/^podman:\/\/[0-9a-f]{64}$/);
  const emptyDir = path.join(h.dataDir, 'pods', pod.metadata?.uid ?? '', 'volumes/empty-dir/shared');
  // The client fetched the server's page over localhost into the shared volume.
  await waitFor('client wrote the page', () => fs.existsSync(path.join(emptyDir, 'got')) && fs.readFileSync(path.join(emptyDir, 'got'), 'utf8') === 'from-server\n');
  expect(fs.readFileSync(path.join(emptyDir, 'post-start'), 'utf8')).toBe('hooked\n');
  // And the pod IP serves from the node.
  const body = await fetch(`http://${status.podIP}:8080/`).then((r) => r.text());
  expect(body).toBe('from-server\n');
});

test('a crashing container backs off and shows CrashLoopBackOff with its last termination', async () => {
  const pod = h.add(makePod('crash', { containers: [{ name: 'main', image, ...sh('echo crashing; exit 3') }] }));
  const st = await waitFor('CrashLoopBackOff after restarts', () => {
    const c = cs(pod, 'main');
    return c?.state?.waiting?.reason === 'CrashLoopBackOff' && (c.restartCount ?? 0) >= 2 && c;
  }, 20_000, () => cs(pod, 'main'));
  expect(st.lastState?.terminated?.exitCode).toBe(3);
  expect(st.lastState?.terminated?.reason).toBe('Error');
  expect(st.state?.waiting?.message).toMatch(/back-off \d+s restarting failed container=main/);
  expect(h.status(pod)?.phase).toBe('Running');
  // Back-off grows: restarts are spaced at least base, 2x base... apart, so few happen in a short window.
  const count = cs(pod, 'main')?.restartCount ?? 0;
  expect(count).toBeLessThan(8);
  h.remove(pod);
});

test('a failing liveness probe restarts the container; a readiness probe flips Ready', async () => {
  const pod = h.add(
    makePod('probes', {
      containers: [
        {
          name: 'main',
          image,
          ...sh('echo > /tmp/alive; exec sleep 3600'),
          livenessProbe: { exec: { command: ['sh', '-c', '[ -f /tmp/alive ]'] }, periodSeconds: 1, failureThreshold: 1 },
          readinessProbe: { exec: { command: ['sh', '-c', '[ -f /tmp/ready ]'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    }),
  );
  await waitFor('running, not ready', () => cs(pod, 'main')?.state?.running && cond(pod, 'Ready') === 'False', 15_000, () => h.status(pod));
  const id = () => (cs(pod, 'main')?.containerID ?? '').replace(/^podman:\/\//, '');
  await runtime.exec(id(), ['sh', '-c', 'echo > /tmp/ready'], 5000);
  await waitFor('Ready True', () => cond(pod, 'Ready') === 'True' && cs(pod, 'main')?.ready, 10_000, () => h.status(pod));
  await runtime.exec(id(), ['busybox', 'rm', '/tmp/ready'], 5000);
  await waitFor('Ready False again', () => cond(pod, 'Ready') === 'False', 10_000, () => h.status(pod));
  const before = id();
  await runtime.exec(before, ['busybox', 'rm', '/tmp/alive'], 5000);
  const restarted = await waitFor('liveness restart', () => (cs(pod, 'main')?.restartCount ?? 0) >= 1 && cs(pod, 'main')?.state?.running && cs(pod, 'main'), 15_000, () => h.status(pod));
  expect(id()).not.toBe(before);
  expect(restarted.lastState?.terminated).toBeDefined();
  h.remove(pod);
});

test('env and volumes come from a ConfigMap and a Secret; init containers run first', async () => {
  h.configMaps.set('default/settings', { metadata: { name: 'settings', namespace: 'default' }, data: { GREETING: 'hallo', 'app.conf': 'mode=fast\n' } });
  h.secrets.set('default/creds', { metadata: { name: 'creds', namespace: 'default' }, data: { password: Buffer.from('s3cret').toString('base64') } });
  const pod = h.add(
    makePod('config', {
      volumes: [
        { name: 'conf', configMap: { name: 'settings', items: [{ key: 'app.conf', path: 'app.conf' }] } },
        { name: 'sec', secret: { secretName: 'creds' } },
        { name: 'work', emptyDir: {} },
      ],
      initContainers: [{ name: 'init', image, ...sh('echo initialised > /work/marker'), volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
      containers: [
        {
          name: 'main',
          image,
          ...sh('echo "$GREETING $PASSWORD $POD_NAME $(cat /etc/app/app.conf) $(cat /etc/sec/password) $(cat /work/marker)"; exec sleep 3600'),
          workingDir: '/tmp',
          resources: { limits: { memory: '64Mi', cpu: '500m' } },
          envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CM_' }],
          env: [
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'GREETING' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          volumeMounts: [
            { name: 'conf', mountPath: '/etc/app' },
            { name: 'sec', mountPath: '/etc/sec', readOnly: true },
            { name: 'work', mountPath: '/work' },
          ],
        },
      ],
    }),
  );
  await waitFor('config pod running', () => cs(pod, 'main')?.state?.running, 20_000, () => h.status(pod));
  const st = h.status(pod);
  expect(st?.initContainerStatuses?.[0].state?.terminated?.reason).toBe('Completed');
  expect(st?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
  const id = (cs(pod, 'main')?.containerID ?? '').replace(/^podman:\/\//, '');
  const text = await waitFor('log line', async () => {
    const chunks: Buffer[] = [];
    for await (const c of await runtime.logs(id, { follow: false, timestamps: false })) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString().trim() || undefined;
  });
  expect(text).toBe('hallo s3cret config mode=fast s3cret initialised');
  const info = await runtime.docker.getContainer(id).inspect();
  expect(info.HostConfig.Memory).toBe(64 * 2 ** 20);
  expect(info.HostConfig.NanoCpus).toBe(500_000_000);
  expect(info.Config.WorkingDir).toBe('/tmp');
  expect(info.Config.Env).toContain('CM_GREETING=hallo');
  expect(st?.qosClass).toBe('Burstable');
});

test('a pod whose volume cannot be set up (its token refused) waits ContainerCreating and tries again after doubling back-offs', async () => {
  h.tokenRequests.length = 0;
  const pod = h.add(
    makePod('token-refused', {
      volumes: [{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } }],
      containers: [{ name: 'main', image, ...sh('exec sleep 3600'), volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/tokens' }] }],
    }),
  );
  // The harness's back-off starts at 200 ms and doubles to 1.6 s: 0, 0.2, 0.6, 1.4, 3.0 s.
  await waitFor('five token requests', () => h.tokenRequests.length >= 5, 15_000, () => h.tokenRequests);
  expect(cs(pod, 'main')?.state?.waiting).toMatchObject({ reason: 'ContainerCreating', message: expect.stringContaining('too many requests') });
  const gaps = h.tokenRequests.slice(1).map((t, i) => t - h.tokenRequests[i]);
  // The first retries can come early (the sandbox's start asks for a sync too); the last are the back-off's.
  expect(gaps[gaps.length - 1]).toBeGreaterThanOrEqual(1_500);
  expect(gaps[gaps.length - 1]).toBeGreaterThanOrEqual(1.6 * gaps[gaps.length - 2]);
  h.remove(pod);
  await waitFor('token-refused pod cleaned up', () => !h.lifecycle.pods.has(pod.metadata?.uid ?? ''), 15_000);
});

test('bad input ends in clear reasons: missing image, missing command, taken hostPort', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const noImage = h.add(makePod('noimage', { containers: [{ name: 'main', image: 'registry.invalid/nope/nothing:1' }] }));
    const noCmd = h.add(makePod('nocmd', { containers: [{ name: 'main', image, command: ['/no/such/program'] }] }));
    const portPod = h.add(makePod('port', { containers: [{ name: 'main', image, ...sh('sleep 3600'), ports: [{ containerPort: 80, hostPort: port }] }] }));
    await waitFor('ErrImagePull then ImagePullBackOff', () => cs(noImage, 'main')?.state?.waiting?.reason === 'ImagePullBackOff', 15_000, () => cs(noImage, 'main'));
    const seen = await waitFor('RunContainerError', () => cs(noCmd, 'main')?.state?.waiting?.reason === 'RunContainerError' && cs(noCmd, 'main'), 15_000, () => cs(noCmd, 'main'));
    expect(seen.state?.waiting?.message).toMatch(/no such file or directory|not found/i);
    const ported = await waitFor('hostPort reason', () => cs(portPod, 'main')?.state?.waiting?.reason === 'CreatePodSandboxError' && cs(portPod, 'main'), 15_000, () => h.status(portPod));
    expect(ported.state?.waiting?.message).toContain(`hostPort of this pod, ${port}, is already in use`);
    expect(h.status(noImage)?.phase).toBe('Pending');
    expect(h.status(portPod)?.phase).toBe('Pending');
    // Another pod still starts: the node is healthy.
    const ok = h.add(makePod('healthy', { containers: [{ name: 'main', image, ...sh('sleep 3600') }] }));
    await waitFor('healthy pod runs', () => h.status(ok)?.phase === 'Running', 15_000);
    for (const p of [noImage, noCmd, portPod, ok]) h.remove(p);
  } finally {
    blocker.close();
  }
});

/** The runtime volumes of a pod, by the agent's labels. */
async function podVolumes(pod: Pod): Promise<Array<{ Name: string; Labels: Record<string, string> }>> {
  // One label filter: podman ORs several on volumes.
  const { Volumes } = await runtime.docker.listVolumes({ filters: { label: [`io.lotse.node=${NODE}`] } });
  return (Volumes ?? []).filter((v) => v.Labels?.['io.lotse.pod-uid'] === pod.metadata?.uid);
}

test('an emptyDir with medium Memory is a tmpfs of its sizeLimit, shared by the containers, kept across restarts, gone with the pod', async () => {
  const pod = h.add(
    makePod('memory', {
      volumes: [{ name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }],
      containers: [
        { name: 'writer', image, ...sh('echo shared > /cache/f; exec sleep 3600'), volumeMounts: [{ name: 'cache', mountPath: '/cache' }] },
        { name: 'reader', image, ...sh('exec sleep 3600'), volumeMounts: [{ name: 'cache', mountPath: '/data', readOnly: true }] },
      ],
    }),
  );
  await waitFor('memory pod running', () => cs(pod, 'writer')?.state?.running && cs(pod, 'reader')?.state?.running, 20_000, () => h.status(pod));
  const id = (name: string): string => (cs(pod, name)?.containerID ?? '').replace(/^podman:\/\//, '');
  const read = await waitFor('reader sees the file', async () => {
    const r = await runtime.exec(id('reader'), ['cat', '/data/f'], 5000);
    return r.exitCode === 0 && r.stdout;
  });
  expect(read).toBe('shared\n');
  const mounts = (await runtime.exec(id('reader'), ['cat', '/proc/mounts'], 5000)).stdout.split('\n');
  expect(mounts.find((l) => l.split(' ')[1] === '/data')).toMatch(/^\S+ \/data tmpfs ro,.*size=16384k/);
  const [volume] = await podVolumes(pod);
  expect(volume.Labels).toMatchObject({ 'io.lotse.pod-name': 'memory', 'io.lotse.volume': 'cache' });
  // Both containers stop: the sandbox holds the tmpfs, so the restarted ones find the file again.
  const before = [id('writer'), id('reader')];
  await Promise.all(before.map((c) => runtime.stopContainer(c, 0)));
  await waitFor('both restarted', () => [id('writer'), id('reader')].every((c, i) => c !== before[i]) && cs(pod, 'writer')?.state?.running && cs(pod, 'reader')?.state?.running, 20_000, () => h.status(pod));
  expect((await runtime.exec(id('reader'), ['cat', '/data/f'], 5000)).stdout).toBe('shared\n');
  h.remove(pod);
  await waitFor('containers and volume gone', async () => (await runtime.listContainers(pod.metadata?.uid)).length === 0 && (await podVolumes(pod)).length === 0, 20_000);
});

test('restartPolicy Never: a finished pod Succeeds, a failed one Fails', async () => {
  const good = h.add(makePod('done-ok', { restartPolicy: 'Never', containers: [{ name: 'main', image, ...sh('exit 0') }] }));
  const bad = h.add(makePod('done-bad', { restartPolicy: 'Never', containers: [{ name: 'main', image, ...sh('exit 7') }] }));
  await waitFor('Succeeded', () => h.status(good)?.phase === 'Succeeded', 15_000, () => h.status(good));
  await waitFor('Failed', () => h.status(bad)?.phase === 'Failed', 15_000, () => h.status(bad));
  expect(cs(bad, 'main')?.state?.terminated?.exitCode).toBe(7);
  expect(cs(bad, 'main')?.restartCount).toBe(0);
});

test('restartPolicy Never: a container that cannot start is terminated (StartError, 128), the pod Fails, and a restarted agent leaves it so', async () => {
  const pod = h.add(makePod('never-start', { restartPolicy: 'Never', containers: [{ name: 'main', image, command: ['/no/such/program'] }] }));
  const onFailure = h.add(makePod('onfailure-start', { restartPolicy: 'OnFailure', containers: [{ name: 'main', image, command: ['/no/such/program'] }] }));
  await waitFor('Failed', () => h.status(pod)?.phase === 'Failed', 15_000, () => h.status(pod));
  const t = cs(pod, 'main')?.state?.terminated;
  expect(t).toMatchObject({ exitCode: 128, reason: 'StartError' });
  expect(t?.message).toMatch(/no such file or directory|not found/i);
  expect(cs(pod, 'main')?.restartCount).toBe(0);
  // OnFailure: the same failure is retried under back-off.
  const retried = await waitFor('OnFailure retried', () => (cs(onFailure, 'main')?.restartCount ?? 0) >= 1 && cs(onFailure, 'main'), 15_000, () => cs(onFailure, 'main'));
  expect(retried.lastState?.terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
  expect(h.status(onFailure)?.phase).not.toBe('Failed');
  h.remove(onFailure);
  // A new agent over the same data dir still sees the failure and starts nothing.
  await h.stop();
  const next = new PodHarness(runtime, NODE, h.dataDir);
  await next.start([...h.lifecycle.pods.values()]);
  h = next;
  await waitFor('status after restart', () => h.status(pod)?.phase, 15_000);
  await new Promise((r) => setTimeout(r, 1500)); // several back-off periods of the harness (400 ms)
  expect(h.status(pod)?.phase).toBe('Failed');
  expect(cs(pod, 'main')?.state?.terminated?.reason).toBe('StartError');
  expect((await runtime.listContainers(pod.metadata?.uid)).filter((c) => c.name === 'main')).toHaveLength(1);
  h.remove(pod);
});

test('graceful deletion runs preStop, sends SIGTERM, then deletes the pod and its containers', async () => {
  const marks = fs.mkdtempSync(path.join(h.dataDir, 'marks-'));
  const pod = h.add(
    makePod('graceful', {
      terminationGracePeriodSeconds: 10,
      volumes: [{ name: 'marks', hostPath: { path: marks } }],
      containers: [
        {
          name: 'main',
          image,
          ...sh("trap 'echo term >> /marks/log; exit 0' TERM; while true; do sleep 0.1; done"),
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /marks/log'] } } },
          volumeMounts: [{ name: 'marks', mountPath: '/marks' }],
        },
      ],
    }),
  );
  await waitFor('graceful running', () => cs(pod, 'main')?.state?.running, 15_000);
  const started = Date.now();
  h.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 10 } });
  await waitFor('pod deleted through the API', () => h.deleted.includes('default/graceful'), 15_000);
  expect(Date.now() - started).toBeLessThan(8_000); // it exited on SIGTERM, not after the whole grace period
  expect(fs.readFileSync(path.join(marks, 'log'), 'utf8')).toBe('prestop\nterm\n');
  await waitFor('containers removed', async () => (await runtime.listContainers(pod.metadata?.uid)).length === 0);
});

test('a restarted agent adopts running containers without restarting them; orphans are removed', async () => {
  // Both with a memory-backed emptyDir: the adopted pod keeps its volume, the orphan's goes.
  const memory = { volumes: [{ name: 'm', emptyDir: { medium: 'Memory' } }] };
  const pod = makePod('adopt', { ...memory, containers: [{ name: 'main', image, ...sh('exec sleep 3600') }] });
  h.add(pod);
  await waitFor('adopt running', () => cs(pod, 'main')?.state?.running, 15_000);
  const orphan = makePod('orphan', { ...memory, containers: [{ name: 'main', image, ...sh('exec sleep 3600') }] });
  h.add(orphan);
  await waitFor('orphan running', () => cs(orphan, 'main')?.state?.running, 15_000);
  const before = cs(pod, 'main')?.containerID;
  // Something on the host that is not ours (unlabelled), and one of another node: both must survive.
  const bystanders: string[] = [];
  const bystanderLabels: Record<string, string>[] = [{}, { 'io.lotse.node': 'some-other-node', 'io.lotse.pod-uid': 'x' }];
  for (const labels of bystanderLabels) {
    const c: { id: string } = await runtime.docker.createContainer({ Image: image, Cmd: ['sleep', '3600'], Labels: { ...labels, 'lotse-test-bystander': NODE } });
    bystanders.push(c.id);
  }
  await h.stop();
  // The new agent sees "adopt" (still bound to it) but not "orphan" (deleted while it was down).
  const pods = [...h.lifecycle.pods.values()].filter((p) => p.metadata?.uid !== orphan.metadata?.uid);
  const next = new PodHarness(runtime, NODE, h.dataDir);
  await next.start(pods);
  try {
    const adopted = await waitFor('adopted status', () => next.status(pod)?.containerStatuses?.[0]?.state?.running && next.status(pod)?.containerStatuses?.[0], 15_000);
    expect(adopted.containerID).toBe(before);
    expect(adopted.restartCount).toBe(0);
    await waitFor('orphan removed', async () => (await runtime.listContainers(orphan.metadata?.uid)).length === 0 && (await podVolumes(orphan)).length === 0, 15_000);
    expect(await podVolumes(pod)).toHaveLength(1);
    expect(fs.existsSync(path.join(h.dataDir, 'pods', orphan.metadata?.uid ?? ''))).toBe(false);
    for (const id of bystanders) expect((await runtime.docker.getContainer(id).inspect()).Id).toBe(id);
  } finally {
    h = next;
  }
});

test('after a host reboot (podman shows the pod\'s containers as created again) the agent runs the pod anew in a new sandbox', async () => {
  const pod = makePod('rebooted', { containers: [{ name: 'main', image, ...sh('exec sleep 3600') }] });
  h.add(pod);
  await waitFor('rebooted running', () => cs(pod, 'main')?.state?.running, 15_000);
  const uid = pod.metadata?.uid ?? '';
  await h.stop();
  // The power goes: every process of the pod dies (sandbox included, with its network namespace).
  const ids = (await runtime.listContainers(uid)).map((c) => c.id);
  await run('podman', ['kill', ...ids]);
  // After the reboot podman reports those containers as "created" (their run state lived in /run);
  // a wrapper shows exactly that, with the real containers and names underneath.
  const rebooted = new Proxy(runtime, {
    get(target, prop, receiver) {
      if (prop !== 'listContainers') return Reflect.get(target, prop, receiver) as unknown;
      return async (podUid?: string) => (await target.listContainers(podUid)).map((c) => (ids.includes(c.id) ? { ...c, state: 'created' as const, exitCode: undefined, reason: undefined } : c));
    },
  });
  const next = new PodHarness(rebooted, NODE, h.dataDir);
  await next.start([pod]);
  try {
    const again = await waitFor('running again', () => next.status(pod)?.containerStatuses?.[0]?.state?.running && next.status(pod)?.containerStatuses?.[0], 20_000);
    // As the kubelet after a reboot: restarted once, the lost run ended Unknown with 255.
    expect(again.restartCount).toBe(1);
    expect(again.lastState?.terminated).toMatchObject({ reason: 'Unknown', exitCode: 255 });
    const sandboxes = (await runtime.listContainers(uid)).filter((c) => c.kind === 'sandbox' && c.state === 'running');
    expect(sandboxes.map((s) => s.attempt)).toEqual([1]);
  } finally {
    h = next;
  }
});
