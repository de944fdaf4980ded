import type { Service } from 'kubernetes-types/core/v1';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1';
import { renderNftRuleset } from '../../../agent/proxy/nft-ruleset';
import { buildServiceTable } from '../../../agent/proxy/service-table';

const svc = (name: string, spec: Service['spec']): Service => ({ metadata: { name, namespace: 'default' }, spec });
const slice = (service: string, ports: EndpointSlice['ports'], endpoints: EndpointSlice['endpoints']): EndpointSlice => ({
  metadata: { name: `${service}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', ports, endpoints,
});

describe('service table', () => {
  it('matches slice ports by service port name and keeps only ready, non-terminating endpoints', () => {
    const table = buildServiceTable(
      [svc('web', { clusterIP: '10.96.0.5', ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'dns', port: 53, protocol: 'UDP' }] })],
      [slice('web', [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }], [
        { addresses: ['10.88.0.3'], conditions: { ready: true } },
        { addresses: ['10.88.0.2'] },
        { addresses: ['10.88.0.4'], conditions: { ready: false } },
        { addresses: ['10.88.0.5'], conditions: { ready: true, terminating: true } },
      ])],
    );
    expect(table.map((e) => [e.id, e.protocol, e.backends])).toEqual([
      ['default/web:dns', 'UDP', [{ ip: '10.88.0.2', port: 5353 }, { ip: '10.88.0.3', port: 5353 }]],
      ['default/web:http', 'TCP', [{ ip: '10.88.0.2', port: 8080 }, { ip: '10.88.0.3', port: 8080 }]],
    ]);
  });

  it('gives headless services no virtual IP and ClientIP affinity a default of 3 hours', () => {
    const [headless, sticky] = buildServiceTable(
      [svc('a', { clusterIP: 'None', ports: [{ port: 1 }] }), svc('b', { clusterIP: '10.96.0.9', sessionAffinity: 'ClientIP', ports: [{ port: 2 }] })],
      [],
    );
    expect(headless.clusterIP).toBeUndefined();
    expect(sticky.affinitySeconds).toBe(10_800);
  });
});

describe('nftables rendering', () => {
  const table = buildServiceTable(
    [
      svc('web', { clusterIP: '10.96.0.5', type: 'NodePort', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
      svc('dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      svc('empty', { clusterIP: '10.96.0.7', type: 'NodePort', ports: [{ port: 81, nodePort: 30081 }] }),
    ],
    [
      slice('web', [{ name: 'http', port: 8080 }], [{ addresses: ['10.88.0.2'] }, { addresses: ['10.88.0.3'] }]),
      slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ addresses: ['10.88.0.9'] }]),
    ],
  );

  it('keeps every rule in a lotse table with LOTSE- chains, round-robin over backends, affinity sets and rejects', () => {
    const { script, chains, sets } = renderNftRuleset(table, { table: 'lotse', fresh: true });
    const lines = script.split('\n').filter(Boolean);
    expect(lines.every((l) => l.includes(' ip lotse'))).toBe(true);
    expect([...chains.keys()].every((c) => c.startsWith('LOTSE-'))).toBe(true);
    expect(script).toContain('ip daddr 10.96.0.5 meta l4proto tcp th dport 80 goto LOTSE-SVC-');
    expect(script).toContain('meta l4proto udp th dport 53 goto LOTSE-SVC-');
    expect(script).toMatch(/numgen inc mod 2 vmap \{ 0 : goto LOTSE-SEP-\w+, 1 : goto LOTSE-SEP-\w+ \}/);
    expect(script).toContain('meta l4proto tcp dnat to 10.88.0.2:8080');
    expect(script).toContain('meta l4proto udp dnat to 10.88.0.9:53');
    expect(sets.size).toBe(2);
    expect(script).toContain('flags dynamic,timeout; timeout 60s;');
    expect(script).toContain('meta l4proto tcp th dport 30080 goto LOTSE-EXT-');
    expect(script).toContain('ip daddr 10.96.0.7 meta l4proto tcp th dport 81 reject with tcp reset');
    expect(script).toContain('fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto tcp th dport 30081 reject with tcp reset');
    // A fresh start drops what an earlier run left behind.
    expect(lines.slice(0, 3)).toEqual(['add table ip lotse', 'delete table ip lotse', 'add table ip lotse']);
  });

  it('masquerades Service traffic between pods of the node once it has a pod subnet (no br_netfilter needed)', () => {
    const without = renderNftRuleset(table, { table: 'lotse', fresh: true });
    expect(without.chains.get('LOTSE-POSTROUTING')).toEqual(['meta mark & 0x4000 == 0x4000 masquerade']);
    const withSubnet = renderNftRuleset(table, { table: 'lotse', fresh: true, localPodSubnet: '10.244.3.0/24' });
    expect(withSubnet.chains.get('LOTSE-POSTROUTING')).toEqual(['meta mark & 0x4000 == 0x4000 masquerade', 'ct status dnat ip saddr 10.244.3.0/24 ip daddr 10.244.3.0/24 masquerade']);
    // A changed lease rewrites the chain on the next sync.
    const moved = renderNftRuleset(table, { table: 'lotse', fresh: false, previous: withSubnet, localPodSubnet: '10.244.9.0/24' });
    expect(moved.script).toContain('ct status dnat ip saddr 10.244.9.0/24 ip daddr 10.244.9.0/24 masquerade');
  });

  it('deletes the chains and sets of services that are gone on the next sync', () => {
    const first = renderNftRuleset(table, { table: 'lotse', fresh: true });
    const second = renderNftRuleset(table.filter((e) => e.name !== 'web'), { table: 'lotse', fresh: false, previous: first });
    const deleted = second.script.split('\n').filter((l) => l.startsWith('delete '));
    const gone = [...first.chains.keys()].filter((c) => !second.chains.has(c));
    expect(gone.length).toBe(4); // SVC, EXT and two SEP chains of web
    expect(deleted).toEqual([...gone.map((c) => `delete chain ip lotse ${c}`), ...[...first.sets.keys()].map((s) => `delete set ip lotse ${s}`)]);
    expect(second.script).not.toContain('10.96.0.5');
  });

  it('rewrites only the chains an endpoint change touches', () => {
    const first = renderNftRuleset(table, { table: 'lotse', fresh: true });
    const changed = table.map((e) => (e.name === 'dns' ? { ...e, backends: [{ ip: '10.88.0.10', port: 53 }] } : e));
    const second = renderNftRuleset(changed, { table: 'lotse', fresh: false, previous: first });
    const lines = second.script.split('\n').filter(Boolean);
    const flushed = lines.filter((l) => l.startsWith('flush chain')).map((l) => l.split(' ')[4]);
    const staleSep = [...first.chains.keys()].filter((c) => !second.chains.has(c));
    expect(staleSep).toHaveLength(1);
    // The dns service chain (its one backend changed) and the old backend's chain; nothing else.
    expect(flushed).toHaveLength(2);
    expect(flushed[1]).toBe(staleSep[0]);
    expect(second.chains.get(flushed[0])?.[0]).toMatch(/^goto LOTSE-SEP-/);
    expect(second.script).toContain('dnat to 10.88.0.10:53');
    expect(second.script).not.toContain('10.96.0.5');
    expect(lines.length).toBeLessThan(12);
  });
});
