import type { Node } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import { Backoff } from '../../kube/backoff';
import type { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';
import { nodeLabels, type NodeIdentity } from './node-status';

/**
 * Creates this node's Node object, or brings an existing one's labels up to date (an agent that
 * restarts keeps its Node, its taints and what others annotated). Retries until the master answers:
 * from retryMs (default 500 ms) doubling to 10 s, each wait drawn from [d, 2d) so that nodes which
 * boot together (a whole stack) do not register in lock-step.
 */
export async function registerNode(client: KubeClient, id: NodeIdentity, options: { retryMs?: number; signal?: AbortSignal; onError?: (err: Error) => void } = {}): Promise<Node> {
  const initialMs = options.retryMs ?? 500;
  const backoff = new Backoff({ initialMs, maxMs: Math.max(initialMs, 10_000) });
  for (;;) {
    try {
      return await registerOnce(client, id);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const wait = backoff.next();
      options.onError?.(new Error(`registering node ${id.name} failed, retrying in ${wait} ms: ${(err as Error).message}`));
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

async function registerOnce(client: KubeClient, id: NodeIdentity): Promise<Node> {
  const labels = nodeLabels(id);
  try {
    return await client.create<Node>(core('nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: id.name, labels } });
  } catch (err) {
    if (!ApiError.isAlreadyExists(err) && !(err instanceof ApiError && err.code === 409)) throw err;
  }
  return client.patch<Node>(core('nodes', undefined, id.name), 'merge', { metadata: { labels } });
}
