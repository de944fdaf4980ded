import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { get as httpGet, IncomingMessage } from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki } from './test-certs';

export interface EtcdTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface RunningEtcd {
  /** `http://127.0.0.1:PORT`, or `https://...` with tls. */
  endpoint: string;
  /** `127.0.0.1:PORT`, as the --store etcd://HOST:PORT spec wants it. */
  hostPort: string;
  /** Client certificate files (mutual TLS) when started with tls. */
  tls?: EtcdTlsFiles;
  /** SIGKILLs etcd and starts it again on the same ports and data dir (for reconnect tests). */
  restart(): Promise<void>;
  /** Sends a signal to the etcd process itself (SIGSTOP/SIGCONT to stall it). */
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  /** Serve clients over mutual TLS with a throwaway CA. */
  tls?: boolean;
  /**
   * Keep the data dir on the real disk (os.tmpdir()) instead of /dev/shm. etcd 3.4 has no
   * --unsafe-no-fsync, so tests default to tmpfs where fsync is free; benchmarks compare on disk.
   */
  onDisk?: boolean;
}

const ETCD = process.env.LOTSE_ETCD_BIN ?? '/usr/bin/etcd';

/**
 * Starts a one-member etcd on free loopback ports with a temp data dir and waits until it
 * answers /health. stop() kills it and removes the data dir; call it in afterAll.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<RunningEtcd> {
  if (!existsSync(ETCD)) {
    throw new Error(`etcd is not installed at ${ETCD}: run \`apt-get install -y etcd-server\` (or set LOTSE_ETCD_BIN)`);
  }
  let lastError: unknown;
  // A port found free can be taken by someone else before etcd binds it; try a few times.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(options: StartEtcdOptions): Promise<RunningEtcd> {
  const root = !options.onDisk && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(root, 'lotse-etcd-'));
  const [clientPort, peerPort] = await freePorts(2);
  const scheme = options.tls ? 'https' : 'http';
  const clientUrl = `${scheme}://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const tls = options.tls ? writeTlsFiles(dir) : undefined;
  const args = [
    '--name=test',
    `--data-dir=${join(dir, 'data')}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=test=${peerUrl}`,
    '--logger=zap',
    '--log-level=error',
    ...(tls
      ? [`--trusted-ca-file=${tls.serverCa}`, `--cert-file=${tls.serverCert}`, `--key-file=${tls.serverKey}`, '--client-cert-auth']
      : []),
  ];
  let proc: ChildProcess | undefined;
  let stderr = '';
  const launch = async (): Promise<void> => {
    const started = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = started;
    stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    await waitHealthy(started, clientUrl, tls?.client, () => stderr);
  };
  const stop = async (): Promise<void> => {
    await killAndWait(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  const restart = async (): Promise<void> => {
    await killAndWait(proc, 'SIGKILL');
    await launch();
  };
  try {
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }
  const signal = (sig: NodeJS.Signals): void => {
    if (!proc?.pid) throw new Error('etcd is not running');
    process.kill(proc.pid, sig);
    // A stop takes effect once every thread of etcd has been stopped; a test that calls right after
    // the signal must find it stalled, so wait (briefly) until the kernel reports it stopped.
    if (sig === 'SIGSTOP') waitForState(proc.pid, 'T');
  };
  return { endpoint: clientUrl, hostPort: `127.0.0.1:${clientPort}`, tls: tls?.client, restart, stop, signal };
}

interface WrittenTls {
  serverCa: string;
  serverCert: string;
  serverKey: string;
  client: EtcdTlsFiles;
}

function writeTlsFiles(dir: string): WrittenTls {
  const pki = makeTestPki('lotse-etcd-test');
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const ca = write('ca.crt', pki.ca.cert);
  return {
    serverCa: ca,
    serverCert: write('server.crt', pki.server.cert),
    serverKey: write('server.key', pki.server.key),
    client: { ca, cert: write('client.crt', pki.client.cert), key: write('client.key', pki.client.key) },
  };
}

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = createServer();
      return new Promise<typeof server>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    }),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export async function waitHealthy(
  proc: ChildProcess,
  clientUrl: string,
  tls: EtcdTlsFiles | undefined,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  proc.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`etcd exited during startup: ${stderr()}`);
    if (await healthy(clientUrl, tls)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`etcd at ${clientUrl} was not healthy within 15 s: ${stderr()}`);
}

function healthy(clientUrl: string, tls: EtcdTlsFiles | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const onResponse = (res: IncomingMessage): void => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    };
    const url = `${clientUrl}/health`;
    const req = tls
      ? request(url, { ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key), timeout: 1000 }, onResponse)
      : httpGet(url, { timeout: 1000 }, onResponse);
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    if (tls) req.end();
  });
}

export function killAndWait(proc: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGCONT'); // a test that stalled etcd with SIGSTOP still gets it stopped
    proc.kill(signal);
  });
}

/** Waits up to 2 s until /proc reports the process in the given state (e.g. T, stopped). */
function waitForState(pid: number, state: string): void {
  const until = Date.now() + 2000;
  while (Date.now() < until) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith(state)) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
  throw new Error(`etcd (pid ${pid}) did not reach state ${state} within 2 s`);
}
