import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The image every container test uses: busybox-static as a root filesystem, imported locally. */
export const TEST_IMAGE = 'localhost/lotse-busybox:test';

/** Applets linked into the test image; enough for shells, servers, probes and network checks. */
const APPLETS = [
  'sh', 'ash', 'cat', 'echo', 'env', 'false', 'true', 'grep', 'hostname', 'httpd', 'id', 'ip', 'kill', 'ls',
  'mkdir', 'nc', 'ps', 'pwd', 'rm', 'sed', 'sleep', 'test', 'touch', 'wc', 'wget', 'date', 'head', 'tail',
  'printf', 'seq', 'mount', 'nslookup', 'ifconfig', 'trap', 'yes', 'tr', 'cut', 'stat', 'timeout', 'chmod',
];

export interface PodmanService {
  /** unix:///... endpoint to hand to the agent or dockerode. */
  endpoint: string;
  socketPath: string;
  stop(): Promise<void>;
}

/**
 * Starts `podman system service` on a socket of its own in a temp dir, so a test never depends
 * on (or disturbs) a system-wide service. Resolves once the socket answers /_ping.
 */
export async function startPodmanService(): Promise<PodmanService> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-podman-'));
  const socketPath = path.join(dir, 'podman.sock');
  const child: ChildProcess = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!(await ping(socketPath))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`podman system service did not come up on ${socketPath}: ${stderr.slice(-500)} (is podman installed? apt-get install podman runc)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint: `unix://${socketPath}`,
    socketPath,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const http = require('node:http') as typeof import('node:http');
    const req = http.request({ socketPath, path: '/_ping', timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Builds TEST_IMAGE from /bin/busybox (Debian's busybox-static) unless it exists. The image is a
 * tarred root filesystem imported with `podman import`: no registry is reachable from here.
 */
export async function ensureTestImage(): Promise<string> {
  return buildImage(TEST_IMAGE, []);
}

/** TEST_IMAGE plus the host's kubectl (a static Go binary) as /bin/kubectl: a client that runs in-cluster as pods do. */
export const KUBECTL_IMAGE = 'localhost/lotse-kubectl:test';

export async function ensureKubectlImage(): Promise<string> {
  const { stdout } = await run('sh', ['-c', 'readlink -f "$(command -v kubectl)"']);
  const kubectl = stdout.trim();
  if (!kubectl) throw new Error('kubectl is not on PATH: the kubectl test image copies it');
  return buildImage(KUBECTL_IMAGE, [[kubectl, 'bin/kubectl']]);
}

async function buildImage(tag: string, extra: [string, string][]): Promise<string> {
  const exists = await run('podman', ['image', 'exists', tag]).then(() => true, () => false);
  if (exists) return tag;
  const busybox = '/bin/busybox';
  if (!fs.existsSync(busybox)) throw new Error(`${busybox} is missing: apt-get install busybox-static`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-busybox-root-'));
  try {
    for (const d of ['bin', 'tmp', 'etc', 'proc', 'sys', 'dev', 'var/www', 'root']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.copyFileSync(busybox, path.join(root, 'bin/busybox'));
    fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
    for (const applet of APPLETS) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    for (const [from, to] of extra) {
      fs.copyFileSync(from, path.join(root, to));
      fs.chmodSync(path.join(root, to), 0o755);
    }
    const tar = path.join(root, '..', `${path.basename(root)}.tar`);
    await run('tar', ['-C', root, '-cf', tar, '.']);
    try {
      await run('podman', ['import', '--change', 'ENV=PATH=/bin', '--change', 'CMD=["/bin/sh"]', tar, tag]);
    } finally {
      fs.rmSync(tar, { force: true });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return tag;
}

/** Removes every container carrying label (key or key=value), for cleanup after a test. */
export async function removeLabelledContainers(label: string): Promise<void> {
  const { stdout } = await run('podman', ['ps', '-aq', '--filter', `label=${label}`]).catch(() => ({ stdout: '' }));
  const ids = stdout.split('\n').filter(Boolean);
  // --depend: a pod's infra container cannot go before the containers that share its namespaces.
  if (ids.length) await run('podman', ['rm', '-f', '-t', '0', '--depend', ...ids]).catch(() => undefined);
  const left = await run('podman', ['ps', '-aq', '--filter', `label=${label}`]).then((r) => r.stdout.split('\n').filter(Boolean), () => []);
  for (const id of left) await run('podman', ['rm', '-f', '-t', '0', '--depend', id]).catch(() => undefined);
}
