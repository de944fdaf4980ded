import type { KubeClient } from '../../kube/client';
import { DEFAULT_NODE_STATUS_REPORT_MS, hollowFacts, NodeStatusUpdater } from '../../agent/node/node-status';

/** Counts the agent's node status writes; answers as the master would. */
function countingClient(): { client: KubeClient; writes: () => number } {
  let writes = 0;
  const client = {
    patch: async (_ref: unknown, _type: string, body: { status: unknown }) => {
      writes++;
      return { metadata: { name: 'n' }, status: body.status };
    },
  } as unknown as KubeClient;
  return { client, writes: () => writes };
}

test('an unchanged node status is written again only after 5 minutes, as the kubelet reports it', async () => {
  const { client, writes } = countingClient();
  const id = { name: 'n', addresses: ['127.0.0.1'], kubeletPort: 0, maxPods: 110, runtimeVersion: 'fake://1' };
  const updater = new NodeStatusUpdater(client, id, hollowFacts(), { runtimeError: () => undefined });
  const start = Date.now();
  // The clock stands still from the first write on: a real millisecond passing between the
  // first write and the last check would make the 5-minute mark move.
  const now = jest.spyOn(Date, 'now').mockReturnValue(start);
  try {
    await updater.update(true);
    expect(writes()).toBe(1);
    for (const minutes of [1, 2, 4.9]) {
      now.mockReturnValue(start + minutes * 60_000);
      await updater.update();
    }
    expect(writes()).toBe(1);
    now.mockReturnValue(start + DEFAULT_NODE_STATUS_REPORT_MS + 1);
    await updater.update();
    expect(writes()).toBe(2);
    expect(DEFAULT_NODE_STATUS_REPORT_MS).toBe(300_000);
  } finally {
    now.mockRestore();
  }
});

test('a changed node status is written at once', async () => {
  const { client, writes } = countingClient();
  const id = { name: 'n', addresses: ['127.0.0.1'], kubeletPort: 0, maxPods: 110, runtimeVersion: 'fake://1' };
  let runtimeError: string | undefined;
  const updater = new NodeStatusUpdater(client, id, hollowFacts(), { runtimeError: () => runtimeError });
  await updater.update(true);
  runtimeError = 'the container runtime does not answer';
  await updater.update();
  expect(writes()).toBe(2);
});
