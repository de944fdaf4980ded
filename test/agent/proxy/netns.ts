import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A network namespace of the test's own: one end of a veth pair carries the node address and the
 * backend addresses, and takes the default route, so anything the proxy fails to translate
 * vanishes there instead of leaving the machine.
 */
export interface TestNetns {
  name: string;
  nodeAddress: string;
  exec(argv: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; ms: number }>;
  /** busybox httpd per address on port 8080, each answering with its own name. */
  startHttpd(addresses: Record<string, string>): Promise<void>;
  /** A UDP server per address on port 5353 that answers every datagram with its own name. */
  startUdpLabels(addresses: Record<string, string>): Promise<void>;
  /** Sends one datagram from srcPort to dst:port inside the namespace; the reply, or '' after 1 s. */
  udpAsk(dst: string, port: number, srcPort: number): Promise<string>;
  destroy(): Promise<void>;
}

export async function createNetns(nodeAddress: string, extra: string[]): Promise<TestNetns> {
  const name = `lotse-px-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-px-'));
  const children: ChildProcess[] = [];
  await run('ip', ['netns', 'add', name]);
  const ip = (...args: string[]): Promise<unknown> => run('ip', ['-n', name, ...args]);
  await ip('link', 'set', 'lo', 'up');
  // No dummy module on these machines: a veth pair with both ends inside serves as the sink.
  await ip('link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
  await ip('link', 'set', 'd0', 'up');
  await ip('link', 'set', 'd1', 'up');
  for (const a of [nodeAddress, ...extra]) await ip('addr', 'add', `${a}/24`, 'dev', 'd0');
  await ip('route', 'add', 'default', 'dev', 'd0').catch(() => undefined);

  const exec = (argv: string[], timeoutMs = 5000): Promise<{ code: number; stdout: string; ms: number }> =>
    new Promise((resolve) => {
      const start = Date.now();
      execFile('ip', ['netns', 'exec', name, ...argv], { timeout: timeoutMs }, (err, stdout) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout: String(stdout), ms: Date.now() - start });
      });
    });

  return {
    name,
    nodeAddress,
    exec,
    startHttpd: async (addresses) => {
      for (const [addr, label] of Object.entries(addresses)) {
        const root = path.join(dir, label);
        fs.mkdirSync(root, { recursive: true });
        fs.writeFileSync(path.join(root, 'index.html'), `${label}\n`);
        const child = spawn('ip', ['netns', 'exec', name, 'busybox', 'httpd', '-f', '-p', `${addr}:8080`, '-h', root], { stdio: 'ignore' });
        children.push(child);
      }
      const deadline = Date.now() + 5000;
      for (const addr of Object.keys(addresses)) {
        while ((await exec(['curl', '-s', '--max-time', '1', `http://${addr}:8080/`])).code !== 0) {
          if (Date.now() > deadline) throw new Error(`busybox httpd on ${addr}:8080 in ${name} did not answer within 5 s`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    startUdpLabels: async (addresses) => {
      const server = 'import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind((sys.argv[1],5353))\nprint("up",flush=True)\nwhile True:\n  d,a=s.recvfrom(512)\n  s.sendto(sys.argv[2].encode(),a)\n';
      await Promise.all(Object.entries(addresses).map(([addr, label]) => new Promise<void>((resolve, reject) => {
        const child = spawn('ip', ['netns', 'exec', name, 'python3', '-c', server, addr, label], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(child);
        child.stdout?.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`UDP server on ${addr} exited ${code}`)));
      })));
    },
    udpAsk: async (dst, port, srcPort) => {
      const client = 'import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("0.0.0.0",int(sys.argv[3])))\ns.settimeout(1)\ns.sendto(b"q",(sys.argv[1],int(sys.argv[2])))\ntry:\n  print(s.recvfrom(512)[0].decode())\nexcept Exception:\n  print("")\n';
      return (await exec(['python3', '-c', client, dst, String(port), String(srcPort)])).stdout.trim();
    },
    destroy: async () => {
      for (const c of children) c.kill('SIGKILL');
      const pids = await run('ip', ['netns', 'pids', name]).then((r) => r.stdout.split(/\s+/).filter(Boolean), () => []);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await run('ip', ['netns', 'del', name]).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** curl inside the namespace: one line per URL with the body (or "" on failure) and curl's exit code. */
export async function curlMany(ns: TestNetns, url: string, count: number, maxTimeS = 2): Promise<{ bodies: string[]; code: number; ms: number }> {
  const args = ['curl', '-s', '--max-time', String(maxTimeS), '-H', 'Connection: close'];
  for (let i = 0; i < count; i++) args.push(url);
  const r = await ns.exec(args, (maxTimeS * count + 5) * 1000);
  return { bodies: r.stdout.split('\n').filter(Boolean), code: r.code, ms: r.ms };
}
