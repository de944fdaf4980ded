import type { Endpoints } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { core } from '../../../kube/resource-path';
import { certificateSans } from '../../../cluster/certificates';
import { startMaster } from '../../../master/server';
import { startTestMaster, type TestMaster } from '../../support/master';

describe('the kubernetes Service reaches the masters', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster({ store: 'etcd', master: { serviceCidr: '10.100.0.0/16' } });
  }, 60_000);
  afterAll(async () => {
    await m?.stop();
  });

  it('publishes every live master in the Endpoints and EndpointSlice, and takes a stopped one out', async () => {
    const slice = () => m.client.get<EndpointSlice>({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default', name: 'kubernetes' });
    const eps = await m.client.get<Endpoints>(core('endpoints', 'default', 'kubernetes'));
    expect(eps.subsets).toEqual([{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: m.port, protocol: 'TCP' }] }]);
    expect((await slice()).metadata?.labels?.['kubernetes.io/service-name']).toBe('kubernetes');
    // A second master on the same store and port, at another address.
    const second = await startMaster({ dataDir: join(m.dataDir, 'second'), listen: `127.0.0.2:${m.port}`, store: `etcd://${m.etcd?.hostPort}`, serviceCidr: '10.100.0.0/16' });
    try {
      expect((await slice()).endpoints?.map((e) => e.addresses[0]).sort()).toEqual(['127.0.0.1', '127.0.0.2']);
    } finally {
      await second.close();
    }
    expect((await slice()).endpoints?.map((e) => e.addresses[0])).toEqual(['127.0.0.1']);
    const after = await m.client.get<Endpoints>(core('endpoints', 'default', 'kubernetes'));
    expect(after.subsets?.[0].addresses).toEqual([{ ip: '127.0.0.1' }]);
  });

  it('serves a certificate valid for the service ClusterIP, which in-cluster clients connect to', () => {
    expect(certificateSans(readFileSync(join(m.dataDir, 'apiserver.crt'), 'utf8'))).toContain('10.100.0.1');
  });
});
