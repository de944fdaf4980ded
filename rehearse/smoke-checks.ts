import { run } from './command-runner';
import { kubectlFor, type Kubectl } from './smoke-kubectl';
import { waitFor } from '../bootstrap/tunnel-http';
import { masterFailover } from './master-failover-check';
import { hostStatuses, powerOff, powerOn } from './rehearsal-hosts';
import type { RehearsalState } from './rehearsal-state';

/** One smoke check's outcome, as the report lists it. */
export interface SmokeResult {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

export interface SmokeOptions {
  readonly state: RehearsalState;
  /** The kubeconfig holding the rehearsal's context. */
  readonly kubeconfig: string;
  readonly context: string;
  /** An image every host's engine has: busybox with `hello` on 8080 (scripts/build-test-image.sh). */
  readonly image: string;
  readonly report: (result: SmokeResult) => void;
  /** How long each wait may take (default 180 s). */
  readonly waitMs?: number;
}

const NS = 'lotse-smoke';
const HELLO = 'smoke-web';

interface SmokePod {
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  readonly ready: boolean;
}

/**
 * What a user would try on a fresh cluster, each reported on its own: pods on every node, pod to
 * pod across hosts over the overlay, a Service by ClusterIP and by DNS name from pods on other
 * hosts, a NodePort on every host, logs and exec, a host powered off (its pods move) and the same
 * host powered on again (it rejoins, its pods run and reach the others); with three masters or more,
 * the leading master powered off and on again. Everything runs in the namespace lotse-smoke, which
 * is removed at the end.
 */
export async function runSmokeChecks(o: SmokeOptions): Promise<SmokeResult[]> {
  const k = kubectlFor(o);
  const wait = o.waitMs ?? 180_000;
  const results: SmokeResult[] = [];
  const check = async (name: string, body: () => Promise<string>): Promise<boolean> => {
    const started = Date.now();
    const outcome = await body().then((detail) => ({ ok: true, detail }), (err: Error) => ({ ok: false, detail: err.message }));
    const result: SmokeResult = { name, ...outcome, ms: Date.now() - started };
    results.push(result);
    o.report(result);
    return result.ok;
  };
  const nodes = (await k(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter(Boolean);
  await k(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true', '--timeout=60s']);
  await k(['create', 'namespace', NS]);
  try {
    const placed = await check('pods on every node', async () => {
      await k(['apply', '-f', '-'], JSON.stringify(helloManifests(o.image)));
      const pods = await waitFor('a ready smoke-web pod on every node', wait, async () => {
        const ready = (await smokePods(k)).filter((p) => p.ready);
        return nodes.every((n) => ready.some((p) => p.node === n)) ? ready : undefined;
      });
      return `${pods.length} pods Running and Ready on ${nodes.join(', ')}`;
    });
    if (placed) {
      await check('pod to pod across hosts (overlay)', () => podToPod(k));
      await check('Service by ClusterIP and DNS name from every host', () => serviceFromPods(k));
      await check('NodePort on every host', () => nodePorts(k, o.state));
    }
    await check('kubectl logs and exec', () => logsAndExec(k, o.image, wait));
    // Several masters (issue 21): losing the leading one must not stop the control plane.
    if (o.state.hosts.filter((h) => h.role === 'master').length >= 3) {
      await check('power off the leading master: another leads, the API keeps working', () => masterFailover(k, o.state, o.image, wait));
    }
    if (o.state.hosts.filter((h) => h.role === 'worker').length > 1) {
      await check('power off the host of a pod: the pod moves', () => podsMove(k, o, wait));
      // Whatever the check above got to: a host it powered off is powered on again.
      const off = hostStatuses(o.state).find((h) => !h.running)?.name;
      if (off) await check(`power on ${off}: it rejoins and its pods run again`, () => rejoins(k, o, off, wait));
    }
  } finally {
    await k(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  }
  return results;
}

/** A DaemonSet of hello servers (on masters too) and a NodePort Service in front of them. */
function helloManifests(image: string): unknown {
  const labels = { app: HELLO };
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: HELLO, namespace: NS },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              tolerations: [{ operator: 'Exists' }],
              containers: [{ name: 'web', image, imagePullPolicy: 'IfNotPresent', command: ['/bin/hello'], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 } }],
            },
          },
        },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: HELLO, namespace: NS }, spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: 'http' }] } },
    ],
  };
}

async function smokePods(k: Kubectl, app = HELLO): Promise<SmokePod[]> {
  const out = await k(['get', 'pods', '-n', NS, '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\\n"}{end}']);
  return out.split('\n').filter(Boolean).map((line) => {
    const [name, node, ip, ready, deleting] = line.split(' ');
    return { name, node, ip, ready: ready === 'True' && !deleting };
  });
}

/** An HTTP GET from inside a pod with busybox's nc: the answer's body, or the failure. */
async function getFrom(k: Kubectl, pod: string, host: string, port: number): Promise<string> {
  return k(['exec', '-n', NS, pod, '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' | nc -w 5 ${host} ${port} | tail -n 1`]);
}

async function podToPod(k: Kubectl): Promise<string> {
  const pods = (await smokePods(k)).filter((p) => p.ready);
  const failures: string[] = [];
  let tried = 0;
  for (const from of pods) {
    for (const to of pods.filter((p) => p.node !== from.node)) {
      tried += 1;
      const answer = await getFrom(k, from.name, to.ip, 8080).catch((err: Error) => err.message);
      if (answer !== `hello from ${to.name}`) failures.push(`${from.node} -> ${to.node} (${to.ip}): ${answer || 'no answer'}`);
    }
  }
  if (failures.length > 0) throw new Error(`${failures.length} of ${tried} cross-host requests failed: ${failures.join('; ')}`);
  return `${tried} requests between pods on different hosts answered`;
}

async function serviceFromPods(k: Kubectl): Promise<string> {
  const pods = (await smokePods(k)).filter((p) => p.ready);
  const clusterIP = await k(['get', 'service', HELLO, '-n', NS, '-o', 'jsonpath={.spec.clusterIP}']);
  const dnsName = `${HELLO}.${NS}.svc.cluster.local`;
  const answeredBy = new Set<string>();
  const failures: string[] = [];
  for (const from of pods) {
    for (const target of [clusterIP, dnsName, clusterIP, dnsName]) {
      const answer = await getFrom(k, from.name, target, 80).catch((err: Error) => err.message);
      const m = /^hello from (\S+)$/.exec(answer);
      if (m) answeredBy.add(m[1]);
      else failures.push(`${from.node} -> ${target}: ${answer || 'no answer'}`);
    }
  }
  if (failures.length > 0) throw new Error(`${failures.join('; ')}`);
  const remote = pods.some((from) => [...answeredBy].some((name) => pods.find((p) => p.name === name)?.node !== from.node));
  if (!remote) throw new Error(`every answer came from the asking pod's own node (${[...answeredBy].join(', ')}): no Service traffic crossed hosts`);
  return `${clusterIP} and ${dnsName} answered from ${pods.length} hosts, served by ${answeredBy.size} pods`;
}

async function nodePorts(k: Kubectl, state: RehearsalState): Promise<string> {
  const port = Number(await k(['get', 'service', HELLO, '-n', NS, '-o', 'jsonpath={.spec.ports[0].nodePort}']));
  const failures: string[] = [];
  for (const host of state.hosts) {
    const r = await run(['curl', '-sS', '-m', '5', `http://${host.address}:${port}/`], { allowFailure: true });
    if (!/^hello from \S+/.test(r.stdout.trim())) failures.push(`${host.name} (${host.address}:${port}): ${(r.stderr || r.stdout).trim() || 'no answer'}`);
  }
  if (failures.length > 0) throw new Error(`NodePort ${port} did not answer on ${failures.join('; ')}`);
  return `NodePort ${port} answered on ${state.hosts.length} hosts`;
}

async function logsAndExec(k: Kubectl, image: string, wait: number): Promise<string> {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'smoke-logs', namespace: NS },
    spec: { containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo smoke-log-line-1; echo smoke-log-line-2; exec sleep 3600'] }] },
  };
  await k(['apply', '-f', '-'], JSON.stringify(pod));
  await waitFor('Running smoke-logs pod', wait, async () => ((await k(['get', 'pod', 'smoke-logs', '-n', NS, '-o', 'jsonpath={.status.phase}'])) === 'Running' ? true : undefined));
  const logs = await waitFor('log lines from smoke-logs', 30_000, async () => {
    const out = await k(['logs', 'smoke-logs', '-n', NS]);
    return out.includes('smoke-log-line-2') ? out : undefined;
  });
  const hostname = await k(['exec', 'smoke-logs', '-n', NS, '--', 'hostname']);
  if (hostname !== 'smoke-logs') throw new Error(`exec ran hostname and got "${hostname}", expected smoke-logs`);
  return `logs: ${logs.split('\n').length} lines; exec: hostname = ${hostname}`;
}

/**
 * A Deployment's pod on a worker (the masters excluded by node affinity), whose pods give up an
 * unreachable node after 5 s (the default is 300 s); its worker is powered off and the pod must be
 * replaced on another one.
 */
async function podsMove(k: Kubectl, o: SmokeOptions, wait: number): Promise<string> {
  const labels = { app: 'smoke-move' };
  const masters = o.state.hosts.filter((h) => h.role === 'master').map((h) => h.name);
  const tolerate = (key: string) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 });
  await k(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'smoke-move', namespace: NS },
    spec: {
      replicas: 1, selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: masters }] }] } } },
          tolerations: [tolerate('node.kubernetes.io/unreachable'), tolerate('node.kubernetes.io/not-ready')],
          containers: [{ name: 'web', image: o.image, imagePullPolicy: 'IfNotPresent', command: ['/bin/hello'] }],
        },
      },
    },
  }));
  const before = await waitFor('a Ready smoke-move pod on a worker', wait, async () => (await smokePods(k, 'smoke-move')).find((p) => p.ready));
  await powerOff(o.state, before.node);
  const started = Date.now();
  const after = await waitFor(`a Ready smoke-move pod off ${before.node}`, wait, async () => (await smokePods(k, 'smoke-move')).find((p) => p.ready && p.node !== before.node));
  return `${before.node} powered off; ${before.name} replaced by ${after.name} on ${after.node} in ${Math.round((Date.now() - started) / 1000)} s`;
}

async function rejoins(k: Kubectl, o: SmokeOptions, node: string, wait: number): Promise<string> {
  const started = Date.now();
  const boot = await powerOn(o.state, node);
  await waitFor(`node ${node} Ready again`, wait, async () => ((await k(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True' ? true : undefined));
  const pod = await waitFor(`a Ready smoke-web pod on ${node}`, wait, async () => (await smokePods(k)).find((p) => p.node === node && p.ready));
  // The overlay is back too: another host's pod reaches the rebooted host's pod.
  const other = (await smokePods(k)).find((p) => p.node !== node && p.ready);
  if (other) {
    const answer = await waitFor(`an answer from ${pod.name} across the overlay`, 60_000, async () => {
      const a = await getFrom(k, other.name, pod.ip, 8080).catch(() => '');
      return a === `hello from ${pod.name}` ? a : undefined;
    });
    return `booted (${boot.state}), Ready and serving again ${Math.round((Date.now() - started) / 1000)} s after power-on; ${other.node} -> ${pod.name}: "${answer}"`;
  }
  return `booted (${boot.state}), Ready again ${Math.round((Date.now() - started) / 1000)} s after power-on`;
}
