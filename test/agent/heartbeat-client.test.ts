import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { startAgent, type RunningAgent } from '../../agent/agent';
import { FakeRuntime } from '../../agent/hollow/fake-runtime';
import { hollowFacts } from '../../agent/node/node-status';
import { KubeClient } from '../../kube/client';
import { core } from '../../kube/resource-path';
import { startTestMaster, type TestMaster } from '../support/master';
import { waitFor } from './pods/pod-harness';

/** Which KubeClient instance sent which call: "VERB path". */
const sentBy = new Map<KubeClient, string[]>();

function record(this: KubeClient, call: string): void {
  const calls = sentBy.get(this) ?? [];
  calls.push(call);
  sentBy.set(this, calls);
}

let master: TestMaster;
let dir: string;
let agent: RunningAgent | undefined;

beforeAll(async () => {
  master = await startTestMaster();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lotse-heartbeat-'));
  const update = KubeClient.prototype.update;
  const patch = KubeClient.prototype.patch;
  jest.spyOn(KubeClient.prototype, 'update').mockImplementation(function (this: KubeClient, ref, body) {
    record.call(this, `PUT ${ref.resource}`);
    return update.call(this, ref, body) as never;
  });
  jest.spyOn(KubeClient.prototype, 'patch').mockImplementation(function (this: KubeClient, ref, type, body, query) {
    record.call(this, `PATCH ${ref.resource}${query ?? ''}`);
    return patch.call(this, ref, type, body, query) as never;
  });
}, 30_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await agent?.stop();
  await master?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("an agent's heartbeats (Lease, node status) go through a client of their own, its pod work through the other", async () => {
  agent = await startAgent({
    server: master.url, caPem: master.caPem, token: master.joinToken, nodeName: 'beat', dataDir: path.join(dir, 'beat'),
    runtime: new FakeRuntime('beat'), addresses: ['127.0.0.1'], noKubeletServer: true, facts: hollowFacts(), leaseIntervalMs: 300, events: false,
  });
  await master.client.create(core('pods', 'default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'beat', containers: [{ name: 'c', image: 'nginx:1.27' }] } } as Pod);
  await waitFor('pod Running', async () => (await master.client.get<Pod>(core('pods', 'default', 'p'))).status?.phase === 'Running', 15_000);
  await waitFor('three Lease renewals', () => [...sentBy.values()].flat().filter((c) => c === 'PUT leases').length >= 3, 10_000);

  const heartbeat = [...sentBy].filter(([, calls]) => calls.includes('PUT leases')).map(([c]) => c);
  const podWork = [...sentBy].filter(([, calls]) => calls.some((c) => c.startsWith('PATCH pods'))).map(([c]) => c);
  expect(heartbeat).toHaveLength(1);
  expect(podWork).toHaveLength(1);
  expect(heartbeat[0]).not.toBe(podWork[0]);
  expect(heartbeat[0]).not.toBe(agent.client);
  expect(podWork[0]).toBe(agent.client);
  // Node status goes with the Lease; pod status never does.
  expect(sentBy.get(heartbeat[0])?.some((c) => c.startsWith('PATCH nodes'))).toBe(true);
  expect(sentBy.get(heartbeat[0])?.some((c) => c.startsWith('PATCH pods'))).toBe(false);
}, 40_000);
