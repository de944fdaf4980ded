/**
 * Micro-benchmark of field ownership bookkeeping (recordUpdate / serverSideApply) on objects
 * carrying the managedFields that kubectl and controllers leave, each write starting from a
 * structured clone of the stored object as the registry does. Only the bookkeeping is timed.
 *   npx esbuild bench/managed-fields.ts --bundle --platform=node --packages=external --outfile=dist/bench/managed-fields.js \
 *     && node dist/bench/managed-fields.js [--iterations 20000] [--rounds 5]
 *       [--against dist/bench/managed-fields-base.js]
 * Prints microseconds per write for each scenario (median of rounds) and a digest of the
 * outputs, so that two builds can be checked to write the same bytes. --against loads the same
 * bench bundled from another checkout and alternates rounds with it in this process; e.g.
 *   git archive <rev> master kube | tar -x -C /tmp/base && mkdir -p /tmp/base/bench && cp bench/managed-fields.ts /tmp/base/bench/ \
 *     && npx esbuild /tmp/base/bench/managed-fields.ts --bundle --platform=node --packages=external --outfile=dist/bench/managed-fields-base.js
 */
import { createHash, type Hash } from 'node:crypto';
import { resolve } from 'node:path';
import { applyDefaults, defaultStatus } from '../master/api/defaults';
import { applyPatch } from '../master/api/patch/apply-patch';
import { recordUpdate, type UpdateWrite } from '../master/api/patch/field-ownership';
import { rootType } from '../master/api/patch/field-type';
import { serverSideApply } from '../master/api/patch/server-side-apply';
import type { SchemaLookup } from '../master/api/patch/strategic-merge';
import type { Obj } from '../master/api/registry';
import schemas from '../master/api/openapi/schemas.json';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ITERATIONS = arg('iterations', 20_000);
const ROUNDS = arg('rounds', 5);

const lookup: SchemaLookup = (n) => (schemas as unknown as Record<string, Record<string, unknown>>)[n];
const podType = rootType('V1Pod', lookup);
const deployType = rootType('V1Deployment', lookup);

function writer(manager: string, type = podType, subresource?: string): UpdateWrite {
  return { identity: { manager, operation: 'Update', apiVersion: type === podType ? 'v1' : 'apps/v1', ...(subresource ? { subresource } : {}) }, scope: { subresource, hasStatus: true }, type };
}

function update(live: Obj | undefined, next: Obj, w: UpdateWrite): Obj {
  recordUpdate(live, next, w);
  return next;
}

/** A pod as the API bench creates it, scheduled and then reported running by its kubelet. */
function benchPod(i: number): Obj {
  const pod: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
    spec: { containers: [{ name: 'web', image: 'localhost/lotse-busybox:test', command: ['httpd', '-f', '-p', '8080'], ports: [{ containerPort: 8080 }], env: [{ name: 'INDEX', value: String(i) }] }] },
  } as Obj;
  applyDefaults('Pod', pod);
  defaultStatus('Pod', pod);
  const created = update(undefined, pod, writer('kubectl'));
  const running = structuredClone(created);
  (running.spec as Record<string, unknown>).nodeName = 'node-1';
  running.status = {
    phase: 'Running',
    podIP: '10.0.0.5',
    hostIP: '192.168.1.10',
    startTime: '2026-12-04T10:00:00Z',
    conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-04T10:00:01Z' })),
    containerStatuses: [{ name: 'web', ready: true, restartCount: 0, image: 'localhost/lotse-busybox:test', imageID: 'sha256:abc', containerID: 'docker://123', started: true, state: { running: { startedAt: '2026-12-04T10:00:01Z' } } }],
  };
  return update(created, running, writer('lotse-agent', podType, 'status'));
}

const deployConfig = (image: string): Obj =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], resources: { limits: { memory: '128Mi' } } }] },
      },
    },
  }) as Obj;

function apply(live: Obj | undefined, config: Obj): Obj {
  return serverSideApply({
    live,
    config: structuredClone(config),
    identity: { manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1' },
    force: false,
    scope: { hasStatus: true },
    type: deployType,
    merge: (l, c) => applyPatch('apply', l, c, 'V1Deployment', lookup),
  });
}

/** A Deployment applied with kubectl, its status kept by the controller, its replicas scaled by an HPA. */
function appliedDeployment(): Obj {
  const created = apply(undefined, deployConfig('nginx:1'));
  const scaled = structuredClone(created);
  (scaled.spec as Record<string, unknown>).replicas = 5;
  const afterScale = update(created, scaled, writer('horizontal-pod-autoscaler', deployType));
  const status = structuredClone(afterScale);
  status.status = { observedGeneration: 2, replicas: 5, updatedReplicas: 5, readyReplicas: 5, availableReplicas: 5, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: '2026-12-04T10:00:00Z', lastTransitionTime: '2026-12-04T10:00:00Z' }] };
  return update(afterScale, status, writer('kube-controller-manager', deployType, 'status'));
}

interface Scenario {
  name: string;
  stored: Obj;
  /** The write's new object, from a fresh copy of the stored one (not timed). */
  mutate: (live: Obj, i: number) => Obj;
  /** The bookkeeping (timed); returns what would be stored. */
  record: (live: Obj, next: Obj) => Obj;
}

/** The API bench's merge patch: shares unchanged subtrees with the live object, compared against a copy as the handler does. */
const setLabel = (live: Obj, i: number): Obj => ({ ...live, metadata: { ...live.metadata, labels: { ...live.metadata?.labels, touched: String(i) } } }) as Obj;

function withStatus(change: (status: Record<string, unknown>, i: number) => void): (live: Obj, i: number) => Obj {
  return (live, i) => {
    const next = structuredClone(live);
    change(next.status as Record<string, unknown>, i);
    return next;
  };
}

/**
 * The object with its managedFields times set in the past: entries are ordered by time, so a
 * write that moves one would otherwise sort differently depending on whether the clock ticked
 * since setup, and the output digests of two builds would differ for nothing.
 */
function settled(obj: Obj): Obj {
  for (const e of (obj.metadata?.managedFields ?? []) as { time?: string }[]) e.time = '2026-01-01T00:00:00Z';
  return obj;
}

const scenarios: Scenario[] = [
  { name: 'pod label merge patch (kubectl)', stored: settled(benchPod(1)), mutate: setLabel, record: (live, next) => update(live, next, writer('kubectl')) },
  {
    name: 'pod status update (agent)',
    stored: settled(benchPod(2)),
    mutate: withStatus((s, i) => ((s.containerStatuses as { restartCount: number }[])[0].restartCount = i)),
    record: (live, next) => update(live, next, writer('lotse-agent', podType, 'status')),
  },
  {
    name: 'deployment status update (controller)',
    stored: settled(appliedDeployment()),
    mutate: withStatus((s, i) => (s.observedGeneration = i)),
    record: (live, next) => update(live, next, writer('kube-controller-manager', deployType, 'status')),
  },
  { name: 'deployment apply, unchanged (kubectl)', stored: settled(appliedDeployment()), mutate: () => deployConfig('nginx:1'), record: apply },
  { name: 'deployment apply, new image (kubectl)', stored: settled(appliedDeployment()), mutate: (_, i) => deployConfig(`nginx:${i % 2 ? 2 : 1}`), record: apply },
];

/** Per scenario, of the first outputs of every round with times blanked: equal across builds that write the same. */
const digests: Record<string, Hash> = {};

/** Microseconds per write; each write starts from a copy of the previous output, as stored. */
function time(s: Scenario): number {
  const digest = (digests[s.name] ??= createHash('sha256'));
  let stored = s.stored;
  let total = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    // Separate copies, as the registry and handler hand them over: nothing is shared by accident.
    const next = s.mutate(structuredClone(stored), i);
    const live = structuredClone(stored);
    const t = performance.now();
    const out = s.record(live, next);
    total += performance.now() - t;
    if (i < 50) digest.update(JSON.stringify(out, (k, v: unknown) => (k === 'time' ? '' : v)));
    stored = out;
  }
  return (total * 1000) / ITERATIONS;
}

/** What another build of this bench exports, for an A/B in one process (--against). */
export interface Build {
  timeScenario: (index: number) => number;
  outputDigest: (index: number) => string;
}

export const timeScenario = (index: number): number => time(scenarios[index]);
export const outputDigest = (index: number): string => digests[scenarios[index].name]?.copy().digest('hex').slice(0, 12) ?? '';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Rounds of this build and (with --against) the other one alternate, so that both see the same machine. */
function main(): void {
  const againstAt = process.argv.indexOf('--against');
  const other = againstAt >= 0 ? (require(resolve(process.argv[againstAt + 1])) as Build) : undefined;
  for (let i = 0; i < scenarios.length; i++) {
    const mine: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (other) theirs.push(other.timeScenario(i));
      mine.push(timeScenario(i));
    }
    const line = other ? `against ${median(theirs).toFixed(1)} us, this ${median(mine).toFixed(1)} us (${((median(mine) / median(theirs) - 1) * 100).toFixed(0)}%)` : `${median(mine).toFixed(1)} us`;
    const same = other ? (other.outputDigest(i) === outputDigest(i) ? ', same output' : ', DIFFERENT OUTPUT') : '';
    console.log(`${scenarios[i].name}: ${line} per write, median of ${ROUNDS}; output ${outputDigest(i)}${same}`);
  }
}

if (require.main === module) main();
