import type { Pod } from 'kubernetes-types/core/v1';
import { podDnsConfig } from '../../../agent/dns/pod-dns-config';

const pod = (spec: Partial<NonNullable<Pod['spec']>>, namespace = 'shop'): Pod => ({ metadata: { name: 'p', namespace }, spec: { containers: [], ...spec } });
const settings = { clusterDnsIp: '10.88.0.1' };

describe('pod resolv.conf', () => {
  it('points ClusterFirst pods (the default) at the cluster DNS with the namespace search path and ndots:5', () => {
    expect(podDnsConfig(pod({}), settings)).toEqual({
      servers: ['10.88.0.1'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
  });

  it('leaves Default and host-network ClusterFirst pods on the node resolvers', () => {
    expect(podDnsConfig(pod({ dnsPolicy: 'Default' }), settings)).toBeUndefined();
    expect(podDnsConfig(pod({ hostNetwork: true }), settings)).toBeUndefined();
    expect(podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), settings)?.servers).toEqual(['10.88.0.1']);
  });

  it('merges spec.dnsConfig, and uses only it with dnsPolicy None', () => {
    const merged = podDnsConfig(pod({ dnsConfig: { nameservers: ['192.0.2.53'], searches: ['corp.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }), settings);
    expect(merged).toEqual({
      servers: ['10.88.0.1', '192.0.2.53'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
      options: ['ndots:2', 'edns0'],
    });
    expect(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['192.0.2.53'] } }), settings)).toEqual({ servers: ['192.0.2.53'], searches: [], options: [] });
  });
});
