import type { Pod } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../kube/client';
import { Informer } from '../kube/informer';
import { core } from '../kube/resource-path';

/** What a burst cost: wall time from the first create to the last pod Running+Ready. */
export interface BurstResult {
  wallMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * N pods (`sleep 3600`, image present) created at once on node, waited for Running+Ready, then
 * deleted and waited for gone: the work a pod start burst asks of the agent, so a V8 flag's cost
 * (more scavenges, no optimising compiler) shows in the agent's CPU and in the burst's wall time.
 */
export async function podBurst(client: KubeClient, node: string, image: string, pods: number): Promise<BurstResult> {
  const names = Array.from({ length: pods }, (_, i) => `${node}-${i}`);
  const ready = new Set<string>();
  const informer = new Informer<Pod>(client, core('pods', 'default'), { query: { fieldSelector: `spec.nodeName=${node}` } });
  informer.on((type, pod) => {
    const isReady = pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (type !== 'DELETED' && isReady) ready.add(pod.metadata?.name ?? '');
  });
  await informer.start();
  const start = Date.now();
  try {
    await Promise.all(names.map((name) => client.create(core('pods', 'default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } } as Pod)));
    await waitFor(`${pods} pods Running+Ready on ${node}`, async () => names.every((n) => ready.has(n)), 180_000);
  } finally {
    informer.stop();
  }
  const wallMs = Date.now() - start;
  for (const n of names) await client.delete(core('pods', 'default', n)).catch(() => undefined);
  await waitFor(`the pods of ${node} gone`, async () => (await client.list<Pod>(core('pods', 'default'), { fieldSelector: `spec.nodeName=${node}` })).items.length === 0, 120_000);
  return { wallMs };
}
