import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, Pod } from 'kubernetes-types/core/v1';
import { core } from '../../../kube/resource-path';
import { isRunningReady, waitFor } from '../controllers/cluster';
import { kubectlAt, kubectlVersions } from '../../support/kubectl';
import { ensureTestImage, TEST_IMAGE } from '../../support/podman';
import { startPodmanNode, type PodmanNode } from '../../support/podman-node';
import { pythonClient, pythonClientStream } from '../../support/python-client';

jest.setTimeout(120_000);

const NODE = `matrix-${process.pid}`;
const POD = 'matrix';
/** kubectl 1.27 and 1.29 stream over SPDY/3.1; 1.32 and 1.33 over WebSocket (port-forward falls back to SPDY). */
const minors = ['1.27', '1.29', '1.32', '1.33'];

/** kubectl 1.31 and later tunnel port-forward's SPDY through a WebSocket first. */
function tunnelsPortForward(minor: string): boolean {
  return Number(minor.split('.')[1]) >= 31;
}

/**
 * One scenario (apply, get, watch, patch, logs, exec, cp, port-forward, delete) with each kubectl
 * from 1.27 to 1.33, then with @kubernetes/client-node and the Python client, on one master and
 * one real podman node.
 */
describe('client matrix on a real podman node', () => {
  let node: PodmanNode;
  let kc: string;
  let work: string;

  beforeAll(async () => {
    const image = await ensureTestImage();
    node = await startPodmanNode(NODE);
    kc = node.cluster.master.kubeconfigPath;
    work = await mkdtemp(join(tmpdir(), 'lotse-matrix-'));
    const client = node.cluster.client;
    await waitFor('the podman node Ready', async () => {
      const n = (await client.get(core('nodes', undefined, NODE)).catch(() => undefined)) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      return n?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    }, 30_000);
    // busybox has a tar applet but the test image links no name to it; kubectl cp needs `tar`.
    const script = '/bin/busybox ln -sf busybox /bin/tar; mkdir -p /www; echo matrix-ok > /www/index.html; echo matrix-started; exec httpd -f -p 8080 -h /www';
    await client.create(core('pods', 'default'), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: POD },
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, command: ['sh', '-c', script], ports: [{ containerPort: 8080 }] }] },
    } as Pod);
    await waitFor('the matrix pod running', async () => isRunningReady((await client.get(core('pods', 'default', POD))) as Pod), 60_000);
  }, 150_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
    await node?.stop();
  }, 60_000);

  test.each(minors)('kubectl %s: apply, get, watch, patch, logs, exec, cp, port-forward, attach, debug, delete', async (minor) => {
    const binary = kubectlVersions().get(minor);
    if (!binary) throw new Error(`kubectl.${minor} is not installed next to kubectl (Google Cloud SDK bin/)`);
    const k = kubectlAt(binary);
    const name = `mx-${minor.replace('.', '-')}`;
    const version = JSON.parse(await k.ok(kc, ['version', '-o', 'json'])) as { clientVersion: { minor: string } };
    expect(version.clientVersion.minor).toBe(minor.split('.')[1]);

    await k.ok(kc, ['apply', '-f', '-'], `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: "1"}\n`);
    expect(await k.ok(kc, ['get', 'configmap', name, '-o', 'jsonpath={.data.a}'])).toBe('1');
    const watch = k.stream(kc, ['get', 'configmap', name, '-w', '-o', 'jsonpath={.data.a}{"\\n"}']);
    try {
      await watch.waitFor(/^1$/m);
      await k.ok(kc, ['patch', 'configmap', name, '-p', '{"data":{"a":"2"}}']);
      await watch.waitFor(/^2$/m);
    } finally {
      watch.stop();
    }
    expect(await k.ok(kc, ['logs', POD])).toContain('matrix-started');

    expect(await k.ok(kc, ['exec', POD, '--', 'sh', '-c', 'echo out; echo err >&2'])).toBe('out\n');
    const failed = await k.run(kc, ['exec', POD, '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
    expect(await k.ok(kc, ['exec', '-i', POD, '--', 'cat'], 'piped stdin\n')).toBe('piped stdin\n');

    const local = join(work, `${name}.txt`);
    await writeFile(local, `copied by kubectl ${minor}\n`.repeat(2000));
    await k.ok(kc, ['cp', local, `${POD}:/tmp/${name}.txt`]);
    await k.ok(kc, ['cp', `${POD}:/tmp/${name}.txt`, `${local}.back`]);
    expect(await readFile(`${local}.back`, 'utf8')).toBe(await readFile(local, 'utf8'));

    // -v=4 shows whether kubectl fell back from its WebSocket tunnel to SPDY.
    const forward = k.stream(kc, ['port-forward', '-v=4', `pod/${POD}`, ':8080']);
    try {
      await forward.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/, 20_000);
      const port = Number(/127\.0\.0\.1:(\d+) -> 8080/.exec(forward.output())?.[1]);
      expect(await httpGet(port, '/index.html')).toBe('matrix-ok\n');
      expect(await httpGet(port, '/index.html')).toBe('matrix-ok\n');
      if (tunnelsPortForward(minor)) expect(forward.output()).not.toMatch(/fall(ing )?back/i);
    } finally {
      forward.stop();
    }

    // kubectl run -i attaches to the new pod's main process (pods/attach) and feeds it stdin.
    const attacher = `att-${minor.replace('.', '-')}`;
    const attached = await k.run(kc, ['run', attacher, `--image=${TEST_IMAGE}`, '--restart=Never', '-i', '--rm', '--pod-running-timeout=60s', '--command', '--', 'sh', '-c', 'read line; echo got:$line'], 'hello\n');
    expect(attached.stdout).toContain('got:hello');
    expect(attached.code).toBe(0);

    // kubectl debug adds an ephemeral container, which the agent runs in the pod's namespaces:
    // it reaches the pod's httpd on the pod's own loopback.
    const debugger_ = `dbg-${minor.replace('.', '-')}`;
    await k.ok(kc, ['debug', POD, `--image=${TEST_IMAGE}`, `--container=${debugger_}`, '--', 'sh', '-c', 'wget -qO- http://127.0.0.1:8080/index.html']);
    await waitFor(`ephemeral container ${debugger_} to finish`, async () => {
      const pod = (await node.cluster.client.get(core('pods', 'default', POD))) as Pod;
      return pod.status?.ephemeralContainerStatuses?.find((c) => c.name === debugger_)?.state?.terminated;
    }, 30_000);
    expect(await k.ok(kc, ['logs', POD, '-c', debugger_])).toBe('matrix-ok\n');
    // debug -i attaches to the ephemeral container once it runs.
    const interactive = await k.run(kc, ['debug', POD, '-i', `--image=${TEST_IMAGE}`, `--container=${debugger_}-i`, '--', 'sh', '-c', 'read line; echo debugged:$line'], 'there\n');
    expect(interactive.stdout).toContain('debugged:there');

    await k.ok(kc, ['delete', 'configmap', name]);
    expect((await k.run(kc, ['get', 'configmap', name])).stderr).toMatch(/NotFound|not found/);
  });

  test('@kubernetes/client-node 1.4: create, get, watch, patch, logs, exec, delete', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [join(__dirname, 'client-matrix-node.mjs'), kc, 'mx-client-node', POD], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    const r = JSON.parse(out) as { get: string; watch: string[]; logs: string; exec: { stdout: string; status: string; exitCode: string }; deleted: boolean };
    expect(r.get).toBe('1');
    expect(r.watch).toEqual(expect.arrayContaining(['ADDED 1', 'MODIFIED 2']));
    expect(r.logs).toContain('matrix-started');
    expect(r.exec).toEqual({ stdout: 'from-exec\n', status: 'Failure', exitCode: '3' });
    expect(r.deleted).toBe(true);
  });

  test('Python client (python3-kubernetes): version, watch, exec', async () => {
    const v = JSON.parse(await pythonClient(kc, ['version'])) as { minor: string };
    expect(v.minor).toBe('32');
    await node.cluster.client.create(core('configmaps', 'default'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mx-python' }, data: { a: '1' } } as ConfigMap);
    const w = pythonClientStream(kc, ['watch', 'default', 'mx-python']);
    try {
      await waitFor('the python watch to see the ConfigMap', async () => /ADDED mx-python/.test(w.output()), 20_000);
      await node.cluster.client.patch(core('configmaps', 'default', 'mx-python'), 'merge', { data: { a: '2' } });
      expect(await w.exited).toBe(0);
      expect(w.output()).toMatch(/MODIFIED mx-python\nEND/);
    } finally {
      w.child.kill();
    }
    expect(await pythonClient(kc, ['exec', 'default', POD, 'sh', '-c', 'echo from-python'])).toBe('from-python\n');
  });
});

/** A plain HTTP GET to the forwarded local port (the pod's httpd). */
function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}
