import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { DockerRuntime } from '../../../agent/runtime/docker-runtime';
import { RuntimeError, type ContainerSpec, type PodRef } from '../../../agent/runtime/container-runtime';
import type { ObjectSource } from '../../../agent/object-source';
import { VolumeManager } from '../../../agent/volumes/volume-manager';
import { ensureTestImage, removeLabelledContainers, startPodmanService, type PodmanService } from '../../support/podman';

const execFileP = promisify(execFile);
const NODE = `rt-test-${process.pid}`;
let podman: PodmanService;
let runtime: DockerRuntime;
let image: string;
let tmp: string;

beforeAll(async () => {
  podman = await startPodmanService();
  image = await ensureTestImage();
  runtime = new DockerRuntime({ endpoint: { socketPath: podman.socketPath }, nodeName: NODE, pullTimeoutMs: 10_000 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-rt-'));
}, 60_000);

afterAll(async () => {
  runtime?.close();
  await removeLabelledContainers(`io.lotse.node=${NODE}`);
  await podman?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function pod(name: string): PodRef {
  return { uid: `${name}-${Math.random().toString(36).slice(2, 8)}`, name, namespace: 'default' };
}

function spec(p: PodRef, name: string, cmd: string[], extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return { pod: p, name, kind: 'app', attempt: 0, specHash: 'h', image, entrypoint: cmd, env: [], mounts: [], ...extra };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('two containers of one sandbox share localhost and a volume; logs and exec reach them', async () => {
  const p = pod('pair');
  const sandbox = await runtime.createSandbox({ pod: p, hostname: 'pair', ports: [], hostNetwork: false });
  expect(sandbox.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  // Its IPC namespace is one the pod's containers may join: docker refuses a private one (Flatcar).
  expect((await runtime.docker.getContainer(sandbox.id).inspect()).HostConfig.IpcMode).toBe('shareable');
  const shared = path.join(tmp, 'shared');
  fs.mkdirSync(shared);
  const mounts = [{ kind: 'bind' as const, source: shared, containerPath: '/data', readOnly: false }];
  const server = await runtime.createContainer(sandbox.id, spec(p, 'server', ['sh', '-c', 'echo hello-from-server > /data/index.html; exec httpd -f -p 127.0.0.1:8080 -h /data'], { mounts }));
  await runtime.startContainer(server);
  const client = await runtime.createContainer(sandbox.id, spec(p, 'client', ['sh', '-c', 'while true; do wget -q -O - http://127.0.0.1:8080/ && break; sleep 0.2; done; echo client-done; sleep 3600'], { mounts }));
  await runtime.startContainer(client);

  const text = await waitFor('client log', async () => {
    const s = await runtime.logs(client, { follow: false, timestamps: false });
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    const t = Buffer.concat(chunks).toString();
    return t.includes('client-done') ? t : undefined;
  });
  expect(text).toContain('hello-from-server');

  const r = await runtime.exec(client, ['cat', '/data/index.html'], 5000);
  expect(r).toEqual({ exitCode: 0, stdout: 'hello-from-server\n', stderr: '' });
  const failing = await runtime.exec(client, ['sh', '-c', 'echo oops >&2; exit 3'], 5000);
  expect(failing.exitCode).toBe(3);
  expect(failing.stderr).toBe('oops\n');

  const listed = await runtime.listContainers();
  const mine = listed.filter((c) => c.pod.uid === p.uid);
  expect(mine.map((c) => c.name).sort()).toEqual(['POD', 'client', 'server']);
  expect(mine.every((c) => c.state === 'running')).toBe(true);

  await runtime.stopContainer(client, 0);
  const stopped = await waitFor('client exited', async () => (await runtime.listContainers()).find((c) => c.id === client && c.state === 'exited'));
  expect(stopped.exitCode).toBe(137);
  expect(stopped.finishedAt).toBeInstanceOf(Date);
});

test('SELinux: the volumes the agent manages are bound with z (shared relabel), a hostPath as it is', async () => {
  const p = pod('labels');
  const objects = {
    configMap: async () => ({ metadata: { name: 'settings' }, data: { 'app.conf': 'mode=fast' } }),
    secret: async () => ({ metadata: { name: 'creds' }, data: { password: Buffer.from('s3cret').toString('base64') } }),
  } as unknown as ObjectSource;
  const volumes = new VolumeManager(path.join(tmp, 'pods'), objects, runtime);
  const hostDir = fs.mkdtempSync(path.join(tmp, 'host-'));
  fs.writeFileSync(path.join(hostDir, 'h'), 'host');
  const podSpec = {
    metadata: { uid: p.uid, name: p.name, namespace: p.namespace },
    spec: {
      containers: [],
      volumes: [
        { name: 'conf', configMap: { name: 'settings' } },
        { name: 'sec', secret: { secretName: 'creds' } },
        { name: 'work', emptyDir: {} },
        { name: 'host', hostPath: { path: hostDir } },
      ],
    },
  };
  const mounts = volumes.mounts(
    {
      name: 'main',
      volumeMounts: [
        { name: 'conf', mountPath: '/etc/app' },
        { name: 'sec', mountPath: '/etc/sec', readOnly: true },
        { name: 'work', mountPath: '/work' },
        { name: 'host', mountPath: '/host' },
      ],
    },
    await volumes.setUp(podSpec),
  );
  const sandbox = await runtime.createSandbox({ pod: p, hostname: 'labels', ports: [], hostNetwork: false });
  const id = await runtime.createContainer(sandbox.id, spec(p, 'main', ['sh', '-c', 'echo "$(cat /etc/app/app.conf) $(cat /etc/sec/password) $(cat /host/h)" > /work/out'], { mounts }));
  // What the engine was asked for, read before start: podman applies a relabel at start and then
  // drops the option from its record.
  const binds = new Map(((await runtime.docker.getContainer(id).inspect()).HostConfig.Binds ?? []).map((b) => [b.split(':')[1], b.split(':')[2]?.split(',') ?? []]));
  expect(binds.get('/etc/app')).toContain('z');
  expect(binds.get('/etc/sec')).toEqual(expect.arrayContaining(['ro', 'z']));
  expect(binds.get('/work')).toContain('z');
  expect(binds.get('/host')).not.toContain('z');
  expect(binds.get('/host')).not.toContain('Z');
  await runtime.startContainer(id);
  const out = path.join(volumes.podDir(p.uid), 'volumes/empty-dir/work/out');
  expect(await waitFor('the container wrote through its volumes', async () => {
    const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    return text.endsWith('\n') ? text : undefined;
  })).toBe('mode=fast s3cret host\n');
});

test('a missing image fails fast with ErrImagePull and Never with ErrImageNeverPull', async () => {
  const started = Date.now();
  await expect(runtime.ensureImage('registry.invalid/nothing/here:1', 'IfNotPresent')).rejects.toMatchObject({ reason: 'ErrImagePull' });
  expect(Date.now() - started).toBeLessThan(10_000);
  await expect(runtime.ensureImage('localhost/not-here:1', 'Never')).rejects.toMatchObject({ reason: 'ErrImageNeverPull' });
  await expect(runtime.ensureImage(image, 'IfNotPresent')).resolves.toMatch(/^sha256:/);
});

test('a command that does not exist fails to start with RunContainerError', async () => {
  const p = pod('nocmd');
  const sandbox = await runtime.createSandbox({ pod: p, hostname: 'nocmd', ports: [], hostNetwork: false });
  const id = await runtime.createContainer(sandbox.id, spec(p, 'main', ['/no/such/binary']));
  const err = await runtime.startContainer(id).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RuntimeError);
  expect((err as RuntimeError).reason).toBe('RunContainerError');
  expect((err as Error).message).toMatch(/no such file|not found/i);
});

test('a hostPort already taken fails the sandbox with a clear reason', async () => {
  const net = await import('node:net');
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const p = pod('port');
    const err = await runtime
      .createSandbox({ pod: p, hostname: 'port', ports: [{ containerPort: 80, hostPort: port, protocol: 'TCP' }], hostNetwork: false })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toContain(`hostPort of this pod, ${port}, is already in use`);
  } finally {
    blocker.close();
  }
});


test('a flannel-style network: pods get addresses from its subnet and its MTU', async () => {
  const name = `lotse-test-net-${process.pid}`;
  try {
    await runtime.ensureNetwork(name, '10.213.7.0/24', 1400, '10.213.7.1');
    await runtime.ensureNetwork(name, '10.213.7.0/24', 1400, '10.213.7.1'); // idempotent
    const p = pod('flannel');
    const sandbox = await runtime.createSandbox({ pod: p, hostname: 'flannel', network: name, ports: [], hostNetwork: false });
    expect(sandbox.ip).toMatch(/^10\.213\.7\.\d+$/);
    const c = await runtime.createContainer(sandbox.id, spec(p, 'main', ['sh', '-c', 'cat /sys/class/net/eth0/mtu; sleep 3600']));
    await runtime.startContainer(c);
    const r = await runtime.exec(c, ['cat', '/sys/class/net/eth0/mtu'], 5000);
    expect(r.stdout.trim()).toBe('1400');
    for (const x of [c, sandbox.id]) await runtime.removeContainer(x);
  } finally {
    await execFileP('podman', ['network', 'rm', '-f', name]).catch(() => undefined);
  }
});
