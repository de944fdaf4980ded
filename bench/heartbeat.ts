/**
 * Heartbeat benchmark (issue 20): what a node's heartbeat costs the master. A real `lotse master
 * --no-controllers` holds N Nodes (a kubelet-sized status: conditions, addresses, capacity,
 * images) and their Leases; C clients then renew Leases (PUT of the last answer with a new
 * renewTime, as agent/node/lease-renewer.ts does) and patch node status (a merge patch of the
 * whole status with new heartbeat times, as agent/node/node-status.ts does) as fast as answered.
 *   npm run build && npx esbuild bench/heartbeat.ts --bundle --platform=node --packages=external --outfile=bench/.out/heartbeat.js \
 *     && node bench/.out/heartbeat.js [--nodes 1000] [--seconds 20] [--clients 32] [--store sqlite|etcd] [--lotse CHECKOUT]
 * --master-node EXE runs the master with another node (e.g. a script `exec node --cpu-prof --cpu-prof-dir=DIR "$@"` for a CPU profile).
 * --lotse runs the master of another checkout (built with `npm run build`), for a before/after in one session.
 * Prints, per operation: calls/s, client-side p50/p99, and master CPU per call.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { startEtcd } from '../test/support/etcd';
import { freePort, lotseBin, startMasterProcess } from '../test/support/master-process';

const argOf = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const NODES = Number(argOf('nodes', '1000'));
const SECONDS = Number(argOf('seconds', '20'));
const CLIENTS = Number(argOf('clients', '32'));
const STORE = argOf('store', 'sqlite');
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

type Lease = { metadata: { name: string; resourceVersion?: string }; spec: Record<string, unknown> };

function nodeStatus(name: string, at: string): Record<string, unknown> {
  const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: `${reason} for ${name}`, lastHeartbeatTime: at, lastTransitionTime: '2026-12-01T00:00:00Z' });
  return {
    capacity: { cpu: '4', memory: '16318976Ki', pods: '110', 'ephemeral-storage': '101430960Ki' },
    allocatable: { cpu: '4', memory: '16216576Ki', pods: '110', 'ephemeral-storage': '93478772582' },
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      condition('Ready', 'True', 'KubeletReady'),
    ],
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: name }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: { machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: '6.1.0', osImage: 'Fedora CoreOS 41', containerRuntimeVersion: 'podman://4.3.1', kubeletVersion: 'v1.31.0', kubeProxyVersion: 'v1.31.0', operatingSystem: 'linux', architecture: 'amd64' },
    images: Array.from({ length: 10 }, (_, i) => ({ names: [`registry.example/team/image-${i}@sha256:${String(i).repeat(64).slice(0, 64)}`, `registry.example/team/image-${i}:v1.${i}`], sizeBytes: 10_000_000 + i })),
  };
}

/** A Lease's MicroTime: RFC 3339 with microseconds. */
const microTime = (): string => new Date().toISOString().replace('Z', '000Z');

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** C workers, each taking the next node round-robin, for SECONDS; returns latencies in ms. */
async function drive(op: (i: number) => Promise<void>): Promise<number[]> {
  const lat: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  let next = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < until) {
      const i = next++ % NODES;
      const t = performance.now();
      await op(i);
      lat.push(performance.now() - t);
    }
  }));
  return lat;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-heartbeat-'));
  const etcd = STORE === 'etcd' ? await startEtcd({ onDisk: true }) : undefined;
  const checkout = argOf('lotse', '');
  const program = [argOf('master-node', process.execPath), checkout ? join(checkout, 'bin', 'lotse') : lotseBin] as const;
  const extra = ['--no-controllers', ...(etcd ? ['--store', `etcd://${etcd.hostPort}`] : [])];
  const master = await startMasterProcess(dir, await freePort(), extra, program);
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken });
  const pid = master.child.pid as number;
  try {
    const leases: Lease[] = [];
    const t0 = new Date().toISOString();
    for (let i = 0; i < NODES; i += CLIENTS) {
      await Promise.all(Array.from({ length: Math.min(CLIENTS, NODES - i) }, async (_, j) => {
        const name = `hollow-${i + j}`;
        await client.create(nodesRef, { metadata: { name, labels: { 'kubernetes.io/hostname': name } } } as never);
        await client.patch({ ...nodesRef, name, subresource: 'status' }, 'merge', { status: nodeStatus(name, t0) });
        leases[i + j] = await client.create(leasesRef, { metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() } } as never);
      }));
    }
    const results: Record<string, number | string>[] = [];
    const measure = async (name: string, op: (i: number) => Promise<void>): Promise<void> => {
      const cpu0 = cpuSeconds(pid);
      const lat = await drive(op);
      const cpu = cpuSeconds(pid) - cpu0;
      results.push({ op: name, perSec: Math.round(lat.length / SECONDS), p50: +pct(lat, 50).toFixed(2), p99: +pct(lat, 99).toFixed(2), masterCpuUsPerCall: Math.round((cpu / lat.length) * 1e6) });
    };
    await measure('UPDATE leases', async (i) => {
      const l = leases[i];
      const renewTime = microTime();
      leases[i] = await client.update({ ...leasesRef, name: l.metadata.name }, { ...l, spec: { ...l.spec, renewTime } } as never);
    });
    await measure('PATCH nodes/status', async (i) => {
      const name = `hollow-${i}`;
      await client.patch({ ...nodesRef, name, subresource: 'status' }, 'merge', { status: nodeStatus(name, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')) });
    });
    console.log(JSON.stringify({ build: checkout || 'this', store: STORE, nodes: NODES, clients: CLIENTS, seconds: SECONDS, results }));
    console.log(`\n| op (${checkout || 'this build'}, ${STORE}, ${NODES} nodes, ${CLIENTS} clients) | calls/s | p50 ms | p99 ms | master CPU µs/call |\n| --- | ---: | ---: | ---: | ---: |`);
    for (const r of results) console.log(`| ${r.op} | ${r.perSec} | ${r.p50} | ${r.p99} | ${r.masterCpuUsPerCall} |`);
  } finally {
    client.close();
    await master.kill();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
