import { Testing } from 'cdktf';
import type { ClusterConfig } from '../../stacks/config/cluster-config';
import { ScalewayStack } from '../../stacks/scaleway/stack';
import { configWith } from './helpers';
import { expectBootstrap, expectClusterOutputs, expectIgnitionsSound, parsed, resources, type SynthesizedStack } from './stack-checks';
import { suiteApps } from './test-app';

Testing.setupJest();
const apps = suiteApps();

/** The generic resources have no binding class; the matchers only need the Terraform type name. */
const type = (tfResourceType: string): { tfResourceType: string } => ({ tfResourceType });

function synth(config: ClusterConfig): SynthesizedStack {
  return parsed(Testing.synth(new ScalewayStack(apps.app(), 'scaleway', config, config.scaleway!)));
}

type Rule = { action: string; protocol: string; ip_range: string; port?: number; port_range?: string };
type Group = { name: string; inbound_default_policy: string; outbound_default_policy: string; inbound_rule: Rule[] };

describe('scaleway stack', () => {
  const stack = synth(configWith());

  test('the scaleway provider is pinned and configured without credentials', () => {
    expect(stack.json.terraform.required_providers.scaleway).toEqual({ source: 'scaleway/scaleway', version: '~> 2.50' });
    expect(stack.text).toHaveProviderWithProperties(type('scaleway'), { zone: 'fr-par-1', region: 'fr-par', project_id: '11111111-2222-3333-4444-555555555555' });
  });

  test('Flatcar imported from Object Storage, flexible IPs, servers with Ignition in cloud-init user data', () => {
    expect(stack.text).toHaveResourceWithProperties(type('scaleway_block_snapshot'), {
      name: 'lotse-flatcar',
      import: { bucket: 'my-images', key: 'flatcar_production_scaleway_image.qcow2' },
    });
    expect(stack.text).toHaveResourceWithProperties(type('scaleway_instance_image'), { root_volume_id: expect.stringMatching(/^\$\{scaleway_block_snapshot\./) });
    expect(resources(stack, 'scaleway_instance_ip')).toHaveLength(3);
    expect(stack.text).toHaveResourceWithProperties(type('scaleway_instance_server'), {
      name: 'lotse-master-0',
      type: 'DEV1-M',
      zone: 'fr-par-1',
      image: expect.stringMatching(/^\$\{scaleway_instance_image\./),
      ip_id: expect.stringMatching(/^\$\{scaleway_instance_ip\.lotse-master-0-ip\.id\}$/),
      security_group_id: expect.stringMatching(/^\$\{scaleway_instance_security_group\.firewall_masters_/),
      user_data: { 'cloud-init': expect.stringMatching(/^\{"ignition":\{"version":"3\.4\.0"\}/) },
      root_volume: { size_in_gb: 20, delete_on_termination: true },
    });
    const servers = resources(stack, 'scaleway_instance_server') as Array<{ name: string; type: string; user_data: Record<string, string> }>;
    expect(servers.map((s) => [s.name, s.type])).toEqual([['lotse-master-0', 'DEV1-M'], ['lotse-worker-0', 'DEV1-S'], ['lotse-worker-1', 'DEV1-S']]);
    // Scaleway has no FCOS: whatever cluster.os says, these are Flatcar configs with docker.
    for (const server of servers) expect(server.user_data['cloud-init']).toContain('docker.socket');
  });

  test('an existing image UUID skips the import', () => {
    const other = synth(configWith({ scaleway: { image: '0b7f6b5c-0000-4000-8000-000000000000', imageObject: undefined } }));
    expect(resources(other, 'scaleway_block_snapshot')).toHaveLength(0);
    expect(other.text).toHaveResourceWithProperties(type('scaleway_instance_server'), { image: '0b7f6b5c-0000-4000-8000-000000000000' });
  });

  test('every Ignition is valid, under 256 KiB, and the output has no secret', () => expectIgnitionsSound(stack, 3));
  test('outputs and the bootstrap exist', () => {
    expectClusterOutputs(stack);
    expectBootstrap(stack, 'scaleway_instance_server', 3);
  });
});

describe('scaleway security groups', () => {
  const groups = (config: ClusterConfig): Group[] => resources(synth(config), 'scaleway_instance_security_group') as Group[];

  test('drop by default; admin ports from adminCidrs; cluster ports from each machine\'s flexible IP', () => {
    const [masters, workers] = groups(configWith());
    for (const group of [masters, workers]) {
      expect(group).toMatchObject({ inbound_default_policy: 'drop', outbound_default_policy: 'accept' });
      expect(group.inbound_rule).toContainEqual({ action: 'accept', protocol: 'TCP', port: 22, ip_range: '203.0.113.7/32' });
      const vxlan = group.inbound_rule.filter((r) => r.protocol === 'UDP' && r.port === 8472);
      expect(vxlan.map((r) => r.ip_range)).toEqual([0, 1, 2].map(() => expect.stringMatching(/^\$\{scaleway_instance_ip\..*\.address\}\/32$/)));
    }
    expect(masters.inbound_rule).toContainEqual({ action: 'accept', protocol: 'TCP', port: 6443, ip_range: '203.0.113.7/32' });
    expect(masters.inbound_rule.filter((r) => r.port_range === '2379-2380')).toHaveLength(3);
    expect(workers.inbound_rule.filter((r) => r.port === 6443 || r.port_range === '2379-2380')).toEqual([]);
  });

  test('only the ingress ports admit 0.0.0.0/0, unless firewall.ingressSources or extraIngress say otherwise', () => {
    const world = (gs: Group[]): string[] => gs.flatMap((g) => g.inbound_rule.filter((r) => r.ip_range === '0.0.0.0/0').map((r) => `${g.name}:${r.port_range ?? r.port}`));
    expect(world(groups(configWith()))).toEqual(['lotse-workers:80', 'lotse-workers:443']);
    expect(world(groups(configWith({ firewall: { ingressSources: [] } })))).toEqual([]);
    const extra = { name: 'nodeports', protocol: 'tcp', ports: '30000-32767', sources: ['0.0.0.0/0'], to: 'workers' };
    expect(world(groups(configWith({ firewall: { ingressSources: [], extraIngress: [extra] } })))).toEqual(['lotse-workers:30000-32767']);
  });

  test('counts follow cluster.yaml', () => {
    const stack = synth(configWith({ scaleway: { masters: 1, workers: 4 } }));
    expect(resources(stack, 'scaleway_instance_server')).toHaveLength(5);
    expect(resources(stack, 'scaleway_instance_ip')).toHaveLength(5);
    expectIgnitionsSound(stack, 5);
  });

  test('several masters get a load balancer passing TCP 6443 to their flexible IPs with a /readyz check, admitted by the masters\' group from its IP', () => {
    const stack = synth(configWith({ scaleway: { masters: 3 } }));
    expect(resources(stack, 'scaleway_lb_ip')).toHaveLength(1);
    expect(resources(stack, 'scaleway_lb')[0]).toMatchObject({ name: 'lotse-api', type: 'LB-S', ip_ids: [expect.stringMatching(/^\$\{scaleway_lb_ip\.api-ip\.id\}$/)] });
    const backend = resources(stack, 'scaleway_lb_backend')[0] as { forward_port: number; server_ips: string[]; health_check_https: unknown };
    expect(backend).toMatchObject({ forward_protocol: 'tcp', forward_port: 6443, health_check_port: 6443, health_check_https: { uri: '/readyz', code: 200 } });
    expect(backend.server_ips).toHaveLength(3);
    expect(backend.server_ips.every((ip) => /scaleway_instance_ip\.lotse-master-\d-ip\.address/.test(ip))).toBe(true);
    expect(resources(stack, 'scaleway_lb_frontend')[0]).toMatchObject({ inbound_port: 6443 });
    expect(stack.json.output?.apiAddress.value).toBe('${scaleway_lb_ip.api-ip.ip_address}:6443');
    const masters = (resources(stack, 'scaleway_instance_security_group') as Group[]).find((g) => g.name === 'lotse-masters');
    expect(masters?.inbound_rule).toContainEqual({ action: 'accept', protocol: 'TCP', port: 6443, ip_range: '${scaleway_lb_ip.api-ip.ip_address}/32' });
    expect(resources(synth(configWith()), 'scaleway_lb')).toHaveLength(0);
  });
});
