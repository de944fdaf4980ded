import type { Node } from 'kubernetes-types/core/v1';
import type { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';
import { sleep } from './process-supervisor';

/** A node as `lotse status` shows it. */
export interface NodeHealth {
  name: string;
  ready: 'True' | 'False' | 'Unknown' | 'missing';
  message?: string;
}

export async function nodeHealth(client: KubeClient, names: string[]): Promise<NodeHealth[]> {
  const list = await client.list<Node>(core('nodes'));
  return names.map((name) => {
    const node = list.items.find((n) => n.metadata?.name === name);
    if (!node) return { name, ready: 'missing' };
    const cond = node.status?.conditions?.find((c) => c.type === 'Ready');
    return { name, ready: (cond?.status as NodeHealth['ready']) ?? 'Unknown', message: cond?.message };
  });
}

/**
 * Waits until every named node reports Ready=True. `check` runs each round so a crashed agent
 * fails the wait at once instead of at the deadline.
 */
export async function waitNodesReady(client: KubeClient, names: string[], timeoutMs: number, check: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: NodeHealth[] = [];
  for (;;) {
    check();
    last = await nodeHealth(client, names).catch(() => last);
    if (last.length && last.every((n) => n.ready === 'True')) return;
    if (Date.now() > deadline) {
      const waiting = last.filter((n) => n.ready !== 'True').map((n) => `${n.name} (${n.ready}${n.message ? `: ${n.message}` : ''})`);
      throw new Error(`nodes not Ready within ${timeoutMs / 1000} s: ${waiting.join(', ') || names.join(', ')}`);
    }
    await sleep(100);
  }
}
