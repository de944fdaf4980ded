import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test machines for the SSH bootstrap: each host is a network namespace on a private bridge
 * (10.213.N.0/24, used only inside this machine) plus a private mount namespace whose /etc/lotse,
 * /var/lib/lotse, /opt/lotse and /run/lotse are its own directories, running Debian's sshd with
 * a host key and an authorized key made for the test. No systemd: the bootstrap's supervised
 * fallback runs there. Needs root, iproute2, util-linux (unshare, nsenter) and openssh-server.
 */
export interface TestHost {
  name: string;
  address: string;
  netns: string;
  /** This host's private directories (etc, var, opt, run) and its sshd files (ssh/). */
  dir: string;
  /** Fingerprint-relevant: the host key file sshd serves. */
  hostKeyPath: string;
  /** SIGKILLs every sshd of this host (the listener and the sessions). */
  killSshd(): void;
  /** Starts sshd again in the same namespaces. */
  startSshd(): Promise<void>;
  /** A new host key (as after a reinstall), sshd restarted with it. */
  rotateHostKey(): Promise<void>;
}

export interface TestHosts {
  hosts: TestHost[];
  /** Private key authorized on every host (root login). */
  identityFile: string;
  /** An address on the bridge where no host answers. */
  unusedAddress: string;
  /** Kills every process in the namespaces, removes them, the bridge and the temp dirs. */
  cleanup(): Promise<void>;
}

export interface TestHostSpec {
  name: string;
  /** Hide Node.js, podman and docker on this host (bind-mount an empty file over them). */
  withoutNode?: boolean;
}

const MOUNTS: Record<string, string> = { etc: '/etc/lotse', var: '/var/lib/lotse', opt: '/opt/lotse', run: '/run/lotse' };
/** What a host "without Node.js" lacks: Node.js and any container engine that could run its image. */
const HIDE = ['/usr/bin/node', '/usr/bin/nodejs', '/usr/local/bin/node', '/usr/bin/podman', '/usr/bin/docker', '/usr/local/bin/docker'];

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // cleanup of something already gone
  }
}

/** A /24 in 10.213.0.0/16 that no interface on this machine uses yet. */
function freeSubnet(): string {
  const used = sh('ip', ['-4', '-o', 'addr']);
  for (let i = 0; i < 50; i += 1) {
    const n = 1 + Math.floor(Math.random() * 250);
    if (!used.includes(`10.213.${n}.`)) return `10.213.${n}`;
  }
  throw new Error('no free 10.213.N.0/24 subnet for test hosts');
}

function waitPort(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = connect({ host: address, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd on ${address}:${port} did not come up within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

async function waitFile(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function keygen(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lotse-test', '-f', path]);
}

export async function startSshHosts(specs: TestHostSpec[]): Promise<TestHosts> {
  if (process.getuid?.() !== 0) throw new Error('test SSH hosts need root (network and mount namespaces)');
  if (!existsSync('/usr/sbin/sshd')) throw new Error('sshd is missing: apt-get install -y openssh-server');
  const id = randomBytes(3).toString('hex');
  const base = mkdtempSync(join(tmpdir(), `lotse-sshhosts-${id}-`));
  const subnet = freeSubnet();
  const bridge = `lbt${id}`;
  const holders: ChildProcess[] = [];
  const namespaces: string[] = [];
  const cleanup = async (): Promise<void> => {
    for (const ns of namespaces) {
      const pids = (() => {
        try {
          return sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean);
        } catch {
          return [];
        }
      })();
      for (const pid of pids) quiet('kill', ['-KILL', pid]);
    }
    for (const h of holders) h.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    for (const ns of namespaces) quiet('ip', ['netns', 'del', ns]);
    quiet('ip', ['link', 'del', bridge]);
    rmSync(base, { recursive: true, force: true });
  };
  try {
    for (const dir of [...Object.values(MOUNTS), '/run/sshd']) mkdirSync(dir, { recursive: true });
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
    const identityFile = join(base, 'id_ed25519');
    keygen(identityFile);
    const hosts: TestHost[] = [];
    for (const [i, spec] of specs.entries()) {
      const ns = `lotse-bt-${id}-${i}`;
      const address = `${subnet}.${10 + i}`;
      const veth = `vb${id}${i}`;
      sh('ip', ['netns', 'add', ns]);
      namespaces.push(ns);
      sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh('ip', ['link', 'set', veth, 'master', bridge, 'up']);
      sh('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const dir = join(base, spec.name);
      for (const d of [...Object.keys(MOUNTS), 'ssh']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
      const hostKeyPath = join(dir, 'ssh', 'host_ed25519_key');
      keygen(hostKeyPath);
      writeFileSync(join(dir, 'ssh', 'authorized_keys'), readFileSync(`${identityFile}.pub`));
      const config = join(dir, 'ssh', 'sshd_config');
      writeFileSync(
        config,
        [
          `ListenAddress ${address}`,
          'Port 22',
          `HostKey ${hostKeyPath}`,
          `PidFile ${join(dir, 'ssh', 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(dir, 'ssh', 'authorized_keys')}`,
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          'Subsystem sftp internal-sftp',
          'LogLevel ERROR',
          '',
        ].join('\n'),
      );
      const empty = join(dir, 'ssh', 'hidden');
      writeFileSync(empty, '');
      chmodSync(empty, 0o644);
      const ready = join(dir, 'ssh', 'mounts-ready');
      const binds = [
        ...Object.entries(MOUNTS).map(([d, target]) => `mount --bind ${join(dir, d)} ${target}`),
        ...(spec.withoutNode ? [...new Set(HIDE.filter((p) => existsSync(p)).map((p) => realpathSync(p)))].map((p) => `mount --bind ${empty} ${p}`) : []),
      ];
      // The holder keeps the mount namespace alive while sshd is killed and restarted.
      const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `set -e; ${binds.join('; ')}; touch ${ready}; exec sleep infinity`], { stdio: 'ignore', detached: true });
      holders.push(holder);
      holder.unref();
      await waitFile(ready, 5000);
      const startSshd = async (): Promise<void> => {
        const child = spawn('nsenter', ['-t', String(holder.pid), '-m', `--net=/var/run/netns/${ns}`, '/usr/sbin/sshd', '-D', '-e', '-f', config], { stdio: 'ignore', detached: true });
        child.unref();
        await waitPort(address, 22, 5000);
      };
      const sshdPids = (): number[] =>
        sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).filter((pid) => {
          try {
            // A zombie has closed its sockets already; its parent (this process) reaps it later.
            const zombie = / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
            return !zombie && ['sshd', 'sshd-session'].includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
          } catch {
            return false; // exited meanwhile
          }
        }).map(Number);
      // Returns once no sshd is left, so the next connection is refused rather than met by a dying listener.
      const killSshd = (): void => {
        for (const pid of sshdPids()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // exited meanwhile
          }
        }
        const deadline = Date.now() + 5000;
        while (sshdPids().length > 0) {
          if (Date.now() > deadline) throw new Error(`sshd in ${ns} still running 5 s after SIGKILL`);
          execFileSync('sleep', ['0.05']);
        }
      };
      await startSshd();
      hosts.push({
        name: spec.name,
        address,
        netns: ns,
        dir,
        hostKeyPath,
        killSshd,
        startSshd,
        rotateHostKey: async () => {
          killSshd();
          keygen(hostKeyPath);
          await startSshd();
        },
      });
    }
    return { hosts, identityFile, unusedAddress: `${subnet}.250`, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
