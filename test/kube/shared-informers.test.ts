import type { ConfigMap } from 'kubernetes-types/core/v1';
import { core } from '../../kube/resource-path';
import { SharedInformers } from '../../kube/shared-informers';
import { startTestMaster, type TestMaster } from '../support/master';

jest.setTimeout(60_000);

const configMaps = core('configmaps', 'default');

describe("the controller manager's shared informers", () => {
  let m: TestMaster;
  let informers: SharedInformers;

  beforeAll(async () => {
    m = await startTestMaster();
  });
  afterAll(async () => {
    informers?.stop();
    await m?.stop();
  });

  test('cache objects without managedFields, from the list and from the watch, and a write of a cached copy keeps the stored ones', async () => {
    await m.client.create<ConfigMap>(configMaps, { metadata: { name: 'listed' }, data: { a: '1' } } as ConfigMap);
    informers = new SharedInformers(m.client);
    const informer = informers.get<ConfigMap>(core('configmaps'));
    const seen: ConfigMap[] = [];
    let watched: () => void = () => undefined;
    const watchedSeen = new Promise<void>((resolve) => (watched = resolve));
    informer.on((_type, obj) => {
      seen.push(obj);
      if (obj.metadata?.name === 'watched') watched();
    });
    await informers.start();
    await m.client.create<ConfigMap>(configMaps, { metadata: { name: 'watched' }, data: { b: '2' } } as ConfigMap);
    await watchedSeen;

    for (const name of ['listed', 'watched']) {
      const cached = informer.get(`default/${name}`) as ConfigMap;
      expect(cached.metadata?.resourceVersion).toBeTruthy();
      expect(cached.metadata?.managedFields).toBeUndefined();
      // The API still serves them: only the informer's copy is trimmed.
      expect((await m.client.get<ConfigMap>(core('configmaps', 'default', name))).metadata?.managedFields?.length).toBeGreaterThan(0);
    }
    expect(seen.map((o) => o.metadata?.managedFields)).toEqual(seen.map(() => undefined));

    const cached = informer.get('default/listed') as ConfigMap;
    const before = (await m.client.get<ConfigMap>(core('configmaps', 'default', 'listed'))).metadata?.managedFields;
    const updated = await m.client.update<ConfigMap>(core('configmaps', 'default', 'listed'), { ...cached, data: { a: '2' } } as ConfigMap);
    expect(updated.data).toEqual({ a: '2' });
    expect(updated.metadata?.managedFields?.map((e) => e.manager)).toEqual(before?.map((e) => e.manager));
  });
});
