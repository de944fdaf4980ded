import type { ConfigMap, Service } from 'kubernetes-types/core/v1';
import { ApiError } from '../../kube/api-error';
import { KubeClient } from '../../kube/client';
import { Informer } from '../../kube/informer';
import { core } from '../../kube/resource-path';
import { ObjectSource } from '../../agent/object-source';
import { ObjectWatches } from '../../agent/object-watches';
import { rawRequest } from '../support/https-raw';
import { startTestMaster, type TestMaster } from '../support/master';

jest.setTimeout(60_000);

const configMaps = core('configmaps', 'default');
const pods = core('pods', 'default');

/** Requests the master answered for a resource, by verb (GET, LIST, WATCH...), from /metrics. */
async function served(m: TestMaster, resource: string): Promise<Record<string, number>> {
  const r = await rawRequest(m.url, m.caPem, 'GET', '/metrics', { token: m.adminToken });
  const counts: Record<string, number> = {};
  for (const match of r.body.matchAll(/^apiserver_request_total\{verb="(\w+)",resource="([^"]+)",code="\d+"\} (\d+)$/gm)) {
    if (match[2] === resource) counts[match[1]] = (counts[match[1]] ?? 0) + Number(match[3]);
  }
  return counts;
}

function delta(after: Record<string, number>, before: Record<string, number>, verb: string): number {
  return (after[verb] ?? 0) - (before[verb] ?? 0);
}

async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ConfigMaps and Secrets through single-object watches, Services from one cache', () => {
  let m: TestMaster;
  let node: KubeClient;

  beforeAll(async () => {
    m = await startTestMaster();
    const r = await rawRequest(m.url, m.caPem, 'POST', '/lotse/v1/join', { token: m.joinToken, body: JSON.stringify({ nodeName: 'ow-node', addresses: ['127.0.0.1'] }) });
    node = new KubeClient({ server: m.url, ca: m.caPem, token: (JSON.parse(r.body) as { token: string }).token });
    await m.client.create(configMaps, { metadata: { name: 'settings' }, data: { mode: 'one' } } as ConfigMap);
    await m.client.create(pods, { metadata: { name: 'reader' }, spec: { nodeName: 'ow-node', containers: [{ name: 'c', image: 'i', envFrom: [{ configMapRef: { name: 'settings' } }, { configMapRef: { name: 'absent' } }] }] } } as never);
  });
  afterAll(async () => {
    node?.close();
    await m?.stop();
  });

  test('ten syncs of a pod read its ConfigMap with one list and one watch, and no GET', async () => {
    const watches = new ObjectWatches(node);
    const before = await served(m, 'configmaps');
    for (let i = 0; i < 10; i++) expect((await watches.read('configmaps', 'default', 'settings'))?.data).toEqual({ mode: 'one' });
    const after = await served(m, 'configmaps');
    watches.stop();
    expect(delta(after, before, 'LIST')).toBe(1);
    expect(delta(after, before, 'GET')).toBe(0);
  });

  test('an update reaches the next read without a request; a missing object reads as undefined', async () => {
    const watches = new ObjectWatches(node);
    expect((await watches.read('configmaps', 'default', 'settings'))?.data).toEqual({ mode: 'one' });
    expect(await watches.read('configmaps', 'default', 'absent')).toBeUndefined();
    await m.client.patch({ ...configMaps, name: 'settings' }, 'merge', { data: { mode: 'two' } });
    await until('the update to reach the watch', async () => (await watches.read('configmaps', 'default', 'settings'))?.data?.mode === 'two');
    await m.client.create(configMaps, { metadata: { name: 'absent' }, data: { now: 'here' } } as ConfigMap);
    await until('the created object to reach the watch', async () => (await watches.read('configmaps', 'default', 'absent'))?.data?.now === 'here');
    watches.stop();
  });

  test('a watch nobody reads stops after the idle time', async () => {
    const watches = new ObjectWatches(node, { idleMs: 200 });
    await watches.read('configmaps', 'default', 'settings');
    expect(watches.size).toBe(1);
    await until('the idle watch to stop', () => watches.size === 0, 3000);
    watches.stop();
  });

  test('forty watched objects leave the client its sockets for requests', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `many-${i}`);
    for (const name of names) await m.client.create(configMaps, { metadata: { name }, data: { name } } as ConfigMap);
    await m.client.create(pods, { metadata: { name: 'many-reader' }, spec: { nodeName: 'ow-node', containers: [{ name: 'c', image: 'i', envFrom: names.map((name) => ({ configMapRef: { name } })) }] } } as never);
    const watches = new ObjectWatches(node);
    const read = await Promise.all(names.map((name) => watches.read('configmaps', 'default', name)));
    expect(read.map((cm) => cm?.data?.name)).toEqual(names);
    await expect(node.get({ ...pods, name: 'many-reader' })).resolves.toMatchObject({ metadata: { name: 'many-reader' } });
    watches.stop();
  });

  test('service environment variables read one shared Service cache: one list for many pod starts', async () => {
    await m.client.create(core('services', 'default'), { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } as Service);
    const services = new Informer<Service>(node, core('services'));
    const objects = new ObjectSource(node, { services });
    const before = await served(m, 'services');
    for (let i = 0; i < 10; i++) expect((await objects.services('default')).map((s) => s.metadata?.name)).toContain('web');
    const after = await served(m, 'services');
    objects.stop();
    services.stop();
    expect(delta(after, before, 'LIST')).toBe(1);
  });
});

test('an object the node may not watch is read with a GET, and the refusal logged once', async () => {
  const log: string[] = [];
  let gets = 0;
  const client = {
    list: async () => Promise.reject(new ApiError(403, 'Forbidden', 'configmaps is forbidden: list')),
    watch: () => ({ stop: () => undefined, done: Promise.resolve() }),
    get: async () => {
      gets++;
      return { metadata: { name: 'cm', namespace: 'ns' }, data: { k: 'v' } };
    },
  } as unknown as KubeClient;
  const watches = new ObjectWatches(client, { fallbackTtlMs: 0, log: (m) => log.push(m) });
  for (let i = 0; i < 3; i++) expect((await watches.read('configmaps', 'ns', 'cm'))?.data).toEqual({ k: 'v' });
  watches.stop();
  expect(gets).toBe(3);
  expect(log).toHaveLength(1);
  expect(log[0]).toContain('cannot watch configmaps ns/cm (configmaps is forbidden: list)');
});
