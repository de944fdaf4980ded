/**
 * Full-list benchmark (issue 20): what a list without a selector costs a real `lotse master`
 * (SQLite), in the master's CPU and in wall time, for two builds on the same data: the one in
 * this checkout and another (`--before DIR`, a checkout built with `npm run build`), alternated
 * round by round so the ratio is measured in one run.
 *   npm run build && npx esbuild bench/full-list.ts --bundle --platform=node --packages=external --outfile=dist/bench/full-list.js \
 *     && node dist/bench/full-list.js [--nodes 5000] [--pods 30000] [--per-namespace 3000] [--rounds 2] [--lists 3] [--node PATH] [--before DIR]
 * The data (nodes with a kubelet's status, pods bound with a running status) is written once by
 * this checkout's master. Lists, each asked `--lists` times a round: every pod, one namespace's
 * pods, every node (JSON, as client libraries and informers ask), every pod in pages of 500 (as
 * kubectl and client-go page), and every node as a Table (what `kubectl get nodes` asks). Each
 * build's answers are checked to hold the same objects as the first build's. Prints one JSON line
 * per build and round, then a markdown table of medians.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../kube/client';
import { core } from '../kube/resource-path';
import { rawRequest } from '../test/support/https-raw';
import { freePort, lotseBin, startMasterProcess, type MasterProcess } from '../test/support/master-process';

const argOf = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** Runs fn over 0..count-1 with `concurrency` at a time. */
async function inParallel(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < count; i = next++) await fn(i);
  }));
}

function nodeStatus(i: number): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const condition = (type: string, status: string, reason: string): Record<string, string> => ({ type, status, reason, message: `kubelet says ${reason}`, lastHeartbeatTime: now, lastTransitionTime: now });
  return {
    capacity: { cpu: '4', memory: '16393000Ki', pods: '110', 'ephemeral-storage': '101203000Ki' },
    allocatable: { cpu: '4', memory: '16290600Ki', pods: '110', 'ephemeral-storage': '93268000Ki' },
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      condition('Ready', 'True', 'KubeletReady'),
    ],
    addresses: [{ type: 'InternalIP', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }, { type: 'Hostname', address: `node-${i}` }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: { machineID: createHash('md5').update(`m${i}`).digest('hex'), systemUUID: createHash('md5').update(`u${i}`).digest('hex'), bootID: createHash('md5').update(`b${i}`).digest('hex'), kernelVersion: '6.5.6-300.fc39.x86_64', osImage: 'Fedora CoreOS 39', containerRuntimeVersion: 'podman://4.7.2', kubeletVersion: 'v1.29.0-lotse', kubeProxyVersion: 'v1.29.0-lotse', operatingSystem: 'linux', architecture: 'amd64' },
    images: [{ names: ['registry.k8s.io/pause:3.9'], sizeBytes: 744_000 }, { names: ['docker.io/library/nginx:1.25'], sizeBytes: 187_000_000 }],
  };
}

function podStatus(i: number): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const condition = (type: string): Record<string, unknown> => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
  return {
    phase: 'Running',
    conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
    hostIP: '10.0.0.1',
    podIP: `10.244.${(i >> 8) & 255}.${i & 255}`,
    podIPs: [{ ip: `10.244.${(i >> 8) & 255}.${i & 255}` }],
    startTime: now,
    containerStatuses: [{ name: 'c', state: { running: { startedAt: now } }, ready: true, restartCount: 0, image: 'registry.k8s.io/pause:3.9', imageID: 'registry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097', containerID: `docker://${createHash('sha256').update(`c${i}`).digest('hex')}`, started: true }],
    qosClass: 'Burstable',
  };
}

/** Nodes with a kubelet's status, and pods in namespaces of perNamespace, bound and running, written through the API (defaults, managedFields). */
async function populate(master: MasterProcess, nodes: number, pods: number, perNamespace: number): Promise<string[]> {
  const client = new KubeClient({ server: master.url, ca: master.caPem, token: master.adminToken, http2: true });
  try {
    await inParallel(nodes, 32, async (i) => {
      await client.create(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } } } as never);
      await client.patch(core('nodes', undefined, `node-${i}`, 'status'), 'merge', { status: nodeStatus(i) });
    });
    const namespaces = Array.from({ length: Math.ceil(pods / perNamespace) }, (_, i) => `list-${i}`);
    for (const name of namespaces) await client.create(core('namespaces'), { metadata: { name } } as never);
    await inParallel(pods, 32, async (i) => {
      const namespace = namespaces[Math.floor(i / perNamespace)];
      const name = `pod-${i}`;
      await client.create(core('pods', namespace), { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: `a${i % 100}` } }, spec: { nodeName: `node-${i % nodes}`, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] } } as never);
      await client.patch(core('pods', namespace, name, 'status'), 'merge', { status: podStatus(i) });
    });
    return namespaces;
  } finally {
    client.close();
  }
}

/** The bytes of the files under dir. */
function treeBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => sum + (e.isDirectory() ? treeBytes(join(dir, e.name)) : e.isFile() ? statSync(join(dir, e.name)).size : 0), 0);
}

/** The master's CPU seconds so far (utime + stime of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The master's resident memory now, MB: all of it, its anonymous pages (what it allocated) and its file-backed ones (the node binary, a memory-mapped store). */
function residentMb(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), anon: Math.round(kb('RssAnon') / 1024), file: Math.round(kb('RssFile') / 1024) };
}

/** A digest of a list answer's objects, whatever their keys' order. */
function digest(items: unknown[]): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  };
  const hash = createHash('sha256');
  for (const item of items) hash.update(JSON.stringify(canonical(item)));
  return `${items.length}:${hash.digest('hex').slice(0, 16)}`;
}

interface Probe {
  name: string;
  /** Every object the list answers, read through its pages. */
  read(master: MasterProcess): Promise<unknown[]>;
}

async function getJson(master: MasterProcess, path: string, accept = 'application/json'): Promise<{ items?: unknown[]; rows?: unknown[]; metadata?: { continue?: string } }> {
  const res = await rawRequest(master.url, master.caPem, 'GET', path, { token: master.adminToken, headers: { accept }, timeoutMs: 600_000 });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body) as { items?: unknown[]; rows?: unknown[]; metadata?: { continue?: string } };
}

function probes(namespace: string): Probe[] {
  return [
    { name: 'every pod', read: async (m) => (await getJson(m, '/api/v1/pods')).items ?? [] },
    { name: `pods of ${namespace}`, read: async (m) => (await getJson(m, `/api/v1/namespaces/${namespace}/pods`)).items ?? [] },
    { name: 'every node', read: async (m) => (await getJson(m, '/api/v1/nodes')).items ?? [] },
    {
      name: 'every pod, limit=500',
      read: async (m) => {
        const items: unknown[] = [];
        let cont = '';
        do {
          const page = await getJson(m, `/api/v1/pods?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
          items.push(...(page.items ?? []));
          cont = page.metadata?.continue ?? '';
        } while (cont);
        return items;
      },
    },
    // A row's cells hold ages, which change between builds: its name is compared.
    { name: 'every node, Table', read: async (m) => ((await getJson(m, '/api/v1/nodes', TABLE)).rows ?? []).map((row) => (row as { cells: unknown[] }).cells[0]) },
  ];
}

/** The median; of an even count, the mean of the middle two. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function measure(build: string, master: MasterProcess, list: Probe[], lists: number, digests: Map<string, string>): Promise<Record<string, Record<string, number>>> {
  const pid = master.child.pid as number;
  const row: Record<string, Record<string, number>> = {};
  for (const probe of list) {
    await probe.read(master); // warm: the first read of the database's pages
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < lists; i++) {
      const c0 = cpuSeconds(pid);
      const t0 = performance.now();
      const items = await probe.read(master);
      wall.push(performance.now() - t0);
      cpu.push((cpuSeconds(pid) - c0) * 1000);
      if (i === 0) {
        const d = digest(items);
        const first = digests.get(probe.name);
        if (first === undefined) digests.set(probe.name, d);
        else if (first !== d) throw new Error(`${build}: "${probe.name}" answered ${d}, another build ${first}`);
      }
    }
    row[probe.name] = { wallMs: Math.round(median(wall)), masterCpuMs: Math.round(median(cpu)) };
  }
  const mem = residentMb(pid);
  row['master resident after the lists'] = { rssMb: mem.rss, anonMb: mem.anon, fileMb: mem.file };
  return row;
}

async function main(): Promise<void> {
  const nodes = Number(argOf('nodes', '5000'));
  const pods = Number(argOf('pods', '30000'));
  const perNamespace = Number(argOf('per-namespace', '3000'));
  const rounds = Number(argOf('rounds', '2'));
  const lists = Number(argOf('lists', '3'));
  const node = argOf('node', process.execPath);
  const before = argOf('before', '');
  const builds: [string, string][] = [['after', lotseBin], ...(before ? [['before', join(before, 'bin', 'lotse')] as [string, string]] : [])];
  const dir = mkdtempSync(join(tmpdir(), 'lotse-bench-full-list-'));
  const port = await freePort();
  const results: { build: string; round: number; row: Record<string, Record<string, number>> }[] = [];
  try {
    const writer = await startMasterProcess(dir, port, ['--no-controllers'], [node, lotseBin]);
    const t = Date.now();
    const namespaces = await populate(writer, nodes, pods, perNamespace).finally(() => writer.kill());
    process.stderr.write(`wrote ${nodes} nodes and ${pods} pods in ${((Date.now() - t) / 1000).toFixed(0)} s; the data directory holds ${(treeBytes(dir) / 2 ** 20).toFixed(0)} MB\n`);
    const list = probes(namespaces[0]);
    const digests = new Map<string, string>();
    for (let round = 1; round <= rounds; round++) {
      for (const [build, bin] of round % 2 ? builds : [...builds].reverse()) {
        const master = await startMasterProcess(dir, port, ['--no-controllers'], [node, bin]);
        try {
          const row = await measure(build, master, list, lists, digests);
          process.stdout.write(`${JSON.stringify({ build, round, row })}\n`);
          results.push({ build, round, row });
        } finally {
          await master.kill();
        }
      }
    }
    process.stdout.write(`\nmaster on ${node}; ${nodes} nodes, ${pods} pods (${perNamespace} a namespace); median of ${lists} lists a round, then of the rounds\n\n`);
    process.stdout.write(`| list | ${builds.map(([b]) => `${b}: master CPU / wall`).join(' | ')} |${builds.length > 1 ? ' CPU after / before |' : ''}\n| --- |${builds.map(() => ' ---: |').join('')}${builds.length > 1 ? ' ---: |' : ''}\n`);
    for (const probe of list) {
      const of = (build: string, key: 'wallMs' | 'masterCpuMs'): number => median(results.filter((r) => r.build === build).map((r) => r.row[probe.name][key]));
      const cells = builds.map(([b]) => `${Math.round(of(b, 'masterCpuMs'))} / ${Math.round(of(b, 'wallMs'))} ms`);
      const ratio = builds.length > 1 ? ` ${(of('after', 'masterCpuMs') / Math.max(1, of('before', 'masterCpuMs'))).toFixed(2)} |` : '';
      process.stdout.write(`| ${probe.name} | ${cells.join(' | ')} |${ratio}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
