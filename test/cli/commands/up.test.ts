import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { kubectlOk } from '../../support/kubectl';
import { ensureKubectlImage } from '../../support/podman';
import { freePort, isolatedEnv, killMentioning, lotse, nodeContainers, nodeVolumes, processesMentioning, ROOT, waitFor } from '../lotse-cli';

const run = promisify(execFile);
const NODES = ['lotse-local', 'lotse-local-2'];

/** GET http://ip:port/ from the host; the body, or undefined while nothing answers. */
function httpGet(ip: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path: '/', timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

describe('lotse up / status / kubeconfig / down with real podman and real processes', () => {
  const iso = isolatedEnv();
  const marker = iso.env.LOTSE_HOME as string;
  let port: number;

  beforeAll(async () => {
    await run(path.join(ROOT, 'scripts/build-test-image.sh'), [], { cwd: ROOT });
    port = await freePort();
    // A kubeconfig the user already has: it must survive the merge.
    fs.mkdirSync(path.dirname(iso.kubeconfig), { recursive: true });
    fs.writeFileSync(iso.kubeconfig, YAML.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'elsewhere',
      clusters: [{ name: 'elsewhere', cluster: { server: 'https://192.0.2.1:6443' } }],
      users: [{ name: 'elsewhere', user: { token: 'keep-me' } }],
      contexts: [{ name: 'elsewhere', context: { cluster: 'elsewhere', user: 'elsewhere' } }],
    }));
  }, 60_000);

  afterAll(async () => {
    await lotse(['down', '--purge'], iso.env);
    killMentioning(marker);
    for (const node of NODES) {
      const ids = await nodeContainers(node).catch(() => []);
      if (ids.length) await run('podman', ['rm', '-f', '--depend', '-t', '0', ...ids]).catch(() => undefined);
    }
    iso.cleanup();
  }, 60_000);

  it('two ups at once: the first starts 2 Ready nodes and merges the kubeconfig, the other says a start is in progress', async () => {
    // The second starts once the first holds the lock, so the race has the same outcome on a slow machine.
    const first = lotse(['up', '--nodes', '2', '--port', String(port)], iso.env);
    await waitFor('the first up to take the lock', async () => (fs.existsSync(path.join(marker, 'local', 'up.lock')) ? true : undefined), 15_000);
    const loser = await lotse(['up', '--nodes', '2', '--port', String(port)], iso.env);
    const winner = await first;
    expect(winner.stderr).toBe('');
    expect(winner.code).toBe(0);
    expect(loser.code).toBe(1);
    expect(loser.stderr.trim().split('\n')).toHaveLength(1);
    expect(loser.stderr).toMatch(/already starting or stopping this cluster/);
    expect(winner.stdout).toMatch(/✓ master ready at https:\/\/127\.0\.0\.1:\d+ \(\d+\.\d s\)/);
    expect(winner.stdout).toMatch(/✓ 2 nodes Ready/);
    expect(winner.stdout).toMatch(/kubectl create deployment/);

    const nodes = await kubectlOk(iso.kubeconfig, ['get', 'nodes', '--no-headers']);
    for (const n of NODES) expect(nodes).toMatch(new RegExp(`^${n}\\s+Ready\\s`, 'm'));

    const merged = YAML.parse(fs.readFileSync(iso.kubeconfig, 'utf8'));
    expect(merged['current-context']).toBe('lotse');
    expect(merged.contexts.map((c: { name: string }) => c.name).sort()).toEqual(['elsewhere', 'lotse']);
    expect(merged.users.find((u: { name: string }) => u.name === 'elsewhere').user.token).toBe('keep-me');
    const backups = fs.readdirSync(path.dirname(iso.kubeconfig)).filter((f) => f.startsWith('config.lotse-backup-'));
    expect(backups).toHaveLength(1);
    expect(YAML.parse(fs.readFileSync(path.join(path.dirname(iso.kubeconfig), backups[0]), 'utf8'))['current-context']).toBe('elsewhere');
  }, 120_000);

  it('runs a deployment whose pods answer, exposes it on a NodePort and scales it', async () => {
    await kubectlOk(iso.kubeconfig, ['create', 'deployment', 'hello', '--image=localhost/lotse-hello:1', '--port=8080']);
    await kubectlOk(iso.kubeconfig, ['expose', 'deployment', 'hello', '--type=NodePort', '--port=8080']);
    const pod = await waitFor('a Running hello pod with an IP', async () => {
      const out = await kubectlOk(iso.kubeconfig, ['get', 'pods', '-l', 'app=hello', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.podIP}{"\\n"}{end}']);
      const line = out.split('\n').map((l) => l.split(' ')).find((f) => f[1] === 'Running' && f[2]);
      return line ? { name: line[0], ip: line[2] } : undefined;
    });
    const body = await waitFor(`an answer from ${pod.ip}:8080`, () => httpGet(pod.ip, 8080));
    // The image answers with its host name (the pod's name in Kubernetes; lotse's agent may use the sandbox id).
    expect(body).toMatch(/^hello from \S+\n$/);
    const nodePort = Number(await kubectlOk(iso.kubeconfig, ['get', 'svc', 'hello', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
    expect(nodePort).toBeGreaterThanOrEqual(30000);

    await kubectlOk(iso.kubeconfig, ['scale', 'deployment', 'hello', '--replicas=3']);
    await waitFor('3 Running hello pods', async () => {
      const out = await kubectlOk(iso.kubeconfig, ['get', 'pods', '-l', 'app=hello', '-o', 'jsonpath={.items[*].status.phase}']);
      return out.split(' ').filter((p) => p === 'Running').length === 3 ? true : undefined;
    });
    const containers = (await Promise.all(NODES.map(nodeContainers))).flat();
    expect(containers.length).toBeGreaterThanOrEqual(6); // a sandbox and an app container per pod

    // A Memory emptyDir is an engine volume, which down must remove too.
    await kubectlOk(iso.kubeconfig, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mem' },
      spec: { containers: [{ name: 'c', image: 'localhost/lotse-busybox:test', command: ['sleep', '3600'], volumeMounts: [{ name: 'm', mountPath: '/m' }] }], volumes: [{ name: 'm', emptyDir: { medium: 'Memory' } }] },
    }));
    await waitFor('the mem pod Running', async () => ((await kubectlOk(iso.kubeconfig, ['get', 'pod', 'mem', '-o', 'jsonpath={.status.phase}'])) === 'Running' ? true : undefined));
    expect((await Promise.all(NODES.map(nodeVolumes))).flat()).toHaveLength(1);
  }, 90_000);

  it('a pod reaches the API through the kubernetes Service with its ServiceAccount and gets exactly what its Role allows', async () => {
    const image = await ensureKubectlImage();
    const kc = iso.kubeconfig;
    await kubectlOk(kc, ['create', 'serviceaccount', 'lister']);
    await kubectlOk(kc, ['create', 'role', 'cm-lister', '--verb=list', '--resource=configmaps']);
    await kubectlOk(kc, ['create', 'rolebinding', 'lister-cm', '--role=cm-lister', '--serviceaccount=default:lister']);
    // client-go's in-cluster configuration: the service variables, the mounted token and CA.
    const script = 'kubectl get configmaps -o name; echo "cm=$?"; kubectl get secrets 2>&1; echo "secrets=$?"';
    await kubectlOk(kc, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'in-cluster' },
      spec: { serviceAccountName: 'lister', restartPolicy: 'Never', containers: [{ name: 'c', image, env: [{ name: 'HOME', value: '/tmp' }], command: ['sh', '-c', script] }] },
    }));
    await waitFor('the in-cluster pod to finish', async () => {
      const phase = await kubectlOk(kc, ['get', 'pod', 'in-cluster', '-o', 'jsonpath={.status.phase}']);
      return phase === 'Succeeded' || phase === 'Failed' ? phase : undefined;
    }, 90_000);
    const log = await kubectlOk(kc, ['logs', 'in-cluster']);
    expect(log).toContain('configmap/kube-root-ca.crt\ncm=0');
    expect(log).toMatch(/forbidden: User "system:serviceaccount:default:lister" cannot list[^\n]*secrets[\s\S]*secrets=1/);
    // The Service leads to the master's pod-facing address on the bridge gateway, not to its
    // 127.0.0.1, which pods reach only where the engine turned on route_localnet for its bridge.
    expect(await kubectlOk(kc, ['get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[0].addresses[*].ip}'])).toBe('10.88.0.1');
  }, 120_000);

  it('a repeat up reuses the running cluster and restarts a dead agent; status and kubeconfig describe it', async () => {
    const pidFile = (c: string): string => path.join(marker, 'local', 'pids', `${c}.pid`);
    const masterPid = fs.readFileSync(pidFile('master'), 'utf8');
    const agentPid = fs.readFileSync(pidFile('agent-lotse-local'), 'utf8');
    // An agent that died is started again by the next up; the rest is reused as it runs.
    process.kill(Number(fs.readFileSync(pidFile('agent-lotse-local-2'), 'utf8')), 'SIGKILL');
    const again = await lotse(['up'], iso.env); // no flags: the port and node count of the last up
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/reusing the local cluster already running/);
    expect(again.stdout).toMatch(/✓ agents started \(lotse-local-2\)/);
    expect(again.stdout).toMatch(/✓ 2 nodes Ready/);
    expect(again.ms).toBeLessThan(15_000);
    expect(fs.readFileSync(pidFile('master'), 'utf8')).toBe(masterPid);
    expect(fs.readFileSync(pidFile('agent-lotse-local'), 'utf8')).toBe(agentPid);

    const status = await lotse(['status'], iso.env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`master: https://127\\.0\\.0\\.1:${port}\\s+health: ok`));
    expect(status.stdout).toMatch(/^engine: podman unix:\/\/\S+ ok$/m);
    for (const n of NODES) expect(status.stdout).toMatch(new RegExp(`^${n}\\s+True\\s+pid \\d+`, 'm'));

    const printed = await lotse(['kubeconfig'], iso.env);
    expect(printed.code).toBe(0);
    const file = path.join(iso.home, 'printed.kubeconfig');
    fs.writeFileSync(file, printed.stdout);
    expect(await kubectlOk(file, ['get', 'deployment', 'hello', '-o', 'jsonpath={.spec.replicas}'])).toBe('3');
  }, 60_000);

  it('down stops every process and removes the containers the agents made; status then says not running', async () => {
    const down = await lotse(['down'], iso.env);
    expect(down.stderr).toBe('');
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/✓ \d+ containers removed/);
    expect(down.stdout).toMatch(/✓ 1 volume removed/);
    expect(processesMentioning(marker)).toEqual([]);
    for (const n of NODES) expect(await nodeContainers(n)).toEqual([]);
    for (const n of NODES) expect(await nodeVolumes(n)).toEqual([]);
    const status = await lotse(['status'], iso.env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/not running/);
    // The data stays for the next up without --purge.
    expect(fs.existsSync(path.join(marker, 'local', 'master', 'ca.crt'))).toBe(true);
    const purge = await lotse(['down', '--purge'], iso.env);
    expect(purge.code).toBe(0);
    expect(fs.existsSync(path.join(marker, 'local'))).toBe(false);
    const kube = YAML.parse(fs.readFileSync(iso.kubeconfig, 'utf8'));
    expect(kube.contexts.map((c: { name: string }) => c.name)).toEqual(['elsewhere']);
  }, 60_000);
});

describe('lotse up refuses to start half a cluster', () => {
  const iso = isolatedEnv();
  const marker = iso.env.LOTSE_HOME as string;
  afterAll(async () => {
    await lotse(['down', '--purge'], iso.env);
    killMentioning(marker);
    iso.cleanup();
  });

  it('port already taken: one line with cause and fix, exit 1, nothing left running', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await lotse(['up', '--port', String(port)], iso.env);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*lotse up --port \\d+`));
      expect(processesMentioning(marker)).toEqual([]);
      expect(fs.existsSync(path.join(marker, 'local', 'up.lock'))).toBe(false);
    } finally {
      taken.close();
    }
  });

  it('Ctrl-C while starting: what up had started is stopped again, exit 130', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'lotse'), 'up', '--port', String(await freePort())], { env: iso.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await waitFor('the master pid file', async () => (fs.existsSync(path.join(marker, 'local', 'pids', 'master.pid')) ? true : undefined), 15_000);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted; stopped what it had started/);
    await waitFor('no process of the cluster', async () => (processesMentioning(marker).length === 0 ? true : undefined), 5000);
    expect(fs.existsSync(path.join(marker, 'local', 'up.lock'))).toBe(false);
  });

  it('no runtime (no podman on PATH, no engine socket): how to install one, exit 1, nothing started', async () => {
    // LOTSE_ENGINE_SOCKETS replaces the sockets probed (/run/podman/podman.sock, /var/run/docker.sock).
    const env = { ...iso.env, PATH: '/nonexistent', LOTSE_ENGINE_SOCKETS: '' };
    const r = await lotse(['up', '--port', String(await freePort())], env);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no container runtime found.*apt-get install podman runc.*Docker/);
    expect(processesMentioning(marker)).toEqual([]);
    expect(fs.existsSync(path.join(marker, 'local', 'master'))).toBe(false);
  });
});
