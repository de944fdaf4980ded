import type { Node } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import type { WatchEvent } from '../../kube/object';
import type { NodeApi } from './node-api';
import type { StandinLog } from './standin-log';
import type { NodeEvents } from './vxlan-peers';
import { sleep } from './waiting';

/** Watches end after 5 to 10 minutes, as client-go's reflector spreads them, and each end re-lists. */
const watchSeconds = (): number => 300 + Math.floor(Math.random() * 300);

/**
 * Lists all Nodes and hands them to `events.resync`, then watches from the list's
 * resourceVersion and hands over each change, one at a time and in order. A watch that ends
 * (timeout, 410 Gone, a dropped connection) leads to a fresh list, so the state converges even
 * over missed events. Returns when `signal` aborts.
 */
export async function watchNodes(api: NodeApi, events: NodeEvents, signal: AbortSignal, log: StandinLog): Promise<void> {
  let lastListError = '';
  while (!signal.aborted) {
    let resourceVersion: string;
    try {
      const list = await api.listNodes();
      await events.resync(list.items);
      resourceVersion = list.metadata.resourceVersion ?? '';
      lastListError = '';
    } catch (err) {
      const message = (err as Error).message;
      if (message !== lastListError) log(`listing Nodes failed, retrying every second: ${message}`);
      lastListError = message;
      await sleep(1000, signal);
      continue;
    }
    const started = Date.now();
    await watchOnce(api, resourceVersion, events, signal, log);
    // A watch refused at once (e.g. forbidden) must not turn into a tight list/watch loop.
    if (Date.now() - started < 1000) await sleep(1000, signal);
  }
}

async function watchOnce(api: NodeApi, resourceVersion: string, events: NodeEvents, signal: AbortSignal, log: StandinLog): Promise<void> {
  let queue: Promise<void> = Promise.resolve();
  const dispatch = (e: WatchEvent<Node>): Promise<void> => {
    if (e.type === 'ADDED' || e.type === 'MODIFIED') return events.changed(e.object);
    if (e.type === 'DELETED') return events.deleted(e.object);
    return Promise.resolve();
  };
  const handle = api.watchNodes(
    resourceVersion,
    watchSeconds(),
    (e) => {
      queue = queue.then(() => dispatch(e)).catch((err: Error) => log(`handling a ${e.type} of node ${e.object.metadata?.name}: ${err.message}`));
    },
    (err) => {
      if (!signal.aborted && !ApiError.isGone(err)) log(`the Node watch ended: ${err.message}; listing again`);
    },
  );
  const stop = (): void => handle.stop();
  signal.addEventListener('abort', stop, { once: true });
  try {
    await handle.done;
    await queue;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
