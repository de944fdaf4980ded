/**
 * `lotse up` benchmark: the time from `lotse up` to every node Ready (the command returns only
 * then), cold (fresh data dir: new CA, new store) and warm (after `lotse down`, data kept), and the
 * time from `kubectl create deployment` to the first HTTP answer of its pod (at its pod IP, and at
 * 127.0.0.1:NODEPORT when the service proxy forwards it). Median of --runs rounds.
 *
 *   npm run build && scripts/build-test-image.sh \
 *     && npx esbuild bench/up.ts --bundle --platform=node --packages=external --outfile=/tmp/bench-up.js \
 *     && NODE_PATH=$PWD/node_modules node /tmp/bench-up.js [--runs 5] [--nodes 1]
 *
 * It uses a LOTSE_HOME and KUBECONFIG of its own and a free port, so it never touches a real
 * local cluster's data (but it does share the engine: its nodes are lotse-local...).
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = process.cwd();
const BIN = path.join(ROOT, 'bin', 'lotse');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function lotse(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`lotse ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

async function kubectl(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return (await run('kubectl', args, { env })).stdout;
}

function httpOk(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const runs = arg('runs', 5);
  const nodes = arg('nodes', 1);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-bench-up-'));
  const env: NodeJS.ProcessEnv = { ...process.env, LOTSE_HOME: path.join(home, 'lotse'), KUBECONFIG: path.join(home, 'kubeconfig'), CI: '1' };
  const port = await freePort();
  const cold: number[] = [];
  const warm: number[] = [];
  const toPod: number[] = [];
  const toNodePort: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      let t = Date.now();
      await lotse(['up', '--nodes', String(nodes), '--port', String(port)], env);
      cold.push(Date.now() - t);

      t = Date.now();
      await kubectl(env, ['create', 'deployment', 'hello', '--image=localhost/lotse-hello:1', '--port=8080']);
      const ip = await until('a pod IP', async () => (await kubectl(env, ['get', 'pods', '-l', 'app=hello', '-o', 'jsonpath={.items[0].status.podIP}'])).trim() || undefined);
      await until('the pod to answer', async () => ((await httpOk(ip, 8080)) ? true : undefined));
      toPod.push(Date.now() - t);
      await kubectl(env, ['expose', 'deployment', 'hello', '--type=NodePort', '--port=8080']);
      const nodePort = Number(await kubectl(env, ['get', 'svc', 'hello', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
      if (await until('NodePort', async () => ((await httpOk('127.0.0.1', nodePort)) ? true : undefined), 3000).catch(() => false)) toNodePort.push(Date.now() - t);

      await lotse(['down'], env);
      t = Date.now();
      await lotse(['up', '--nodes', String(nodes), '--port', String(port)], env);
      warm.push(Date.now() - t);
      await lotse(['down', '--purge'], env);
      process.stderr.write(`run ${i + 1}/${runs}: cold up ${fmt(cold[i])}, warm up ${fmt(warm[i])}, create→pod answers ${fmt(toPod[i])}\n`);
    }
  } finally {
    await lotse(['down', '--purge'], env).catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  }
  console.log(`lotse up --nodes ${nodes}, median of ${runs} runs (${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}):`);
  console.log(`  up → ${nodes} node(s) Ready, fresh data:        ${fmt(median(cold))}`);
  console.log(`  up → Ready after lotse down (data kept):   ${fmt(median(warm))}`);
  console.log(`  kubectl create deployment → pod IP answers: ${fmt(median(toPod))}`);
  console.log(`  ... → 127.0.0.1:NodePort answers:           ${toNodePort.length ? fmt(median(toNodePort)) : 'not forwarded (no service proxy yet)'}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
