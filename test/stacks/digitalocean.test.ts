import { CustomImage } from '@cdktf/provider-digitalocean/lib/custom-image';
import { Droplet } from '@cdktf/provider-digitalocean/lib/droplet';
import { Loadbalancer } from '@cdktf/provider-digitalocean/lib/loadbalancer';
import { Firewall } from '@cdktf/provider-digitalocean/lib/firewall';
import { SshKey } from '@cdktf/provider-digitalocean/lib/ssh-key';
import { Vpc } from '@cdktf/provider-digitalocean/lib/vpc';
import { Testing } from 'cdktf';
import type { ClusterConfig } from '../../stacks/config/cluster-config';
import { DigitalOceanStack } from '../../stacks/digitalocean/stack';
import { configWith } from './helpers';
import { expectBootstrap, expectClusterOutputs, expectIgnitionsSound, parsed, resources, type SynthesizedStack } from './stack-checks';
import { suiteApps } from './test-app';

Testing.setupJest();
const apps = suiteApps();

function synth(config: ClusterConfig): SynthesizedStack {
  return parsed(Testing.synth(new DigitalOceanStack(apps.app(), 'digitalocean', config, config.digitalocean!)));
}

type Rule = { protocol: string; port_range?: string; source_addresses?: string[]; source_tags?: string[] };
type DoFirewall = { name: string; tags: string[]; inbound_rule: Rule[]; outbound_rule?: Array<{ destination_addresses: string[] }> };

describe.each([
  ['fedora-coreos', /^https:\/\/builds\.coreos\.fedoraproject\.org\/prod\/streams\/stable\/builds\/42\.20250929\.3\.0\/x86_64\/fedora-coreos-42\.20250929\.3\.0-digitalocean\.x86_64\.qcow2\.gz$/],
  ['flatcar', /^https:\/\/stable\.release\.flatcar-linux\.net\/amd64-usr\/current\/flatcar_production_digitalocean_image\.bin\.bz2$/],
] as const)('digitalocean stack on %s', (os, imageUrl) => {
  const stack = synth(configWith({ os }));

  test('custom image, VPC, ssh key and droplets with Ignition as user_data', () => {
    expect(stack.text).toHaveResourceWithProperties(CustomImage, { name: `lotse-${os}`, url: expect.stringMatching(imageUrl), regions: ['fra1'] });
    expect(stack.text).toHaveResourceWithProperties(Vpc, { name: 'lotse', region: 'fra1', ip_range: '10.240.0.0/24' });
    expect(stack.text).toHaveResourceWithProperties(SshKey, { name: 'lotse-0', public_key: expect.stringMatching(/^ssh-ed25519 /) });
    expect(stack.text).toHaveResourceWithProperties(Droplet, {
      name: 'lotse-master-0',
      size: 's-2vcpu-4gb',
      region: 'fra1',
      image: expect.stringMatching(/^\$\{digitalocean_custom_image\./),
      vpc_uuid: expect.stringMatching(/^\$\{digitalocean_vpc\./),
      ssh_keys: [expect.stringMatching(/^\$\{digitalocean_ssh_key\..*\.fingerprint\}$/)],
      user_data: expect.stringMatching(/^\{"ignition":\{"version":"3\.4\.0"\}/),
      tags: [expect.stringContaining('digitalocean_tag.tag-cluster'), expect.stringContaining('digitalocean_tag.tag-master')],
    });
    expect(resources(stack, 'digitalocean_droplet').map((d) => d.name)).toEqual(['lotse-master-0', 'lotse-worker-0', 'lotse-worker-1']);
    // No interface name is guessed (FCOS names the VPC port predictably, not eth1): the bootstrap
    // gives flannel each droplet's VPC address (FLANNELD_IFACE = the output's privateAddress).
    expect(String(resources(stack, 'digitalocean_droplet')[0].user_data)).not.toContain('--iface');
  });

  test('every Ignition is valid, under 256 KiB, and the output has no secret', () => expectIgnitionsSound(stack, 3));
  test('outputs and the bootstrap exist', () => {
    expectClusterOutputs(stack);
    expectBootstrap(stack, 'digitalocean_droplet', 3);
  });
});

describe('digitalocean firewall matrix', () => {
  const firewalls = (config: ClusterConfig): DoFirewall[] => resources(synth(config), 'digitalocean_firewall') as DoFirewall[];

  test('one firewall per target, SSH/API from adminCidrs, cluster ports from the cluster tag only', () => {
    const [all, masters] = firewalls(configWith());
    expect(all.name).toBe('lotse-all');
    expect(all.inbound_rule).toEqual(
      expect.arrayContaining([
        { protocol: 'tcp', port_range: '22', source_addresses: ['203.0.113.7/32'] },
        { protocol: 'udp', port_range: '8472', source_tags: [expect.stringContaining('tag-cluster')] },
        { protocol: 'tcp', port_range: '10250', source_tags: [expect.stringContaining('tag-cluster')] },
      ]),
    );
    expect(masters.name).toBe('lotse-masters');
    expect(masters.inbound_rule).toEqual(
      expect.arrayContaining([
        { protocol: 'tcp', port_range: '6443', source_addresses: ['203.0.113.7/32'] },
        { protocol: 'tcp', port_range: '2379-2380', source_tags: [expect.stringContaining('tag-cluster')] },
      ]),
    );
    // Outbound is open (image pulls); that is the only 0.0.0.0/0 by default.
    expect(all.outbound_rule?.every((r) => r.destination_addresses.includes('0.0.0.0/0'))).toBe(true);
  });

  test('only the ingress ports admit 0.0.0.0/0, unless firewall.ingressSources or extraIngress say otherwise', () => {
    const worldInbound = (fws: DoFirewall[]): string[] =>
      fws.flatMap((fw) => fw.inbound_rule.filter((r) => r.source_addresses?.includes('0.0.0.0/0')).map((r) => `${fw.name}:${r.port_range}`));
    expect(worldInbound(firewalls(configWith()))).toEqual(['lotse-workers:80', 'lotse-workers:443']);
    expect(worldInbound(firewalls(configWith({ firewall: { ingressSources: [] } })))).toEqual([]);
    const extra = { name: 'nodeports', protocol: 'tcp', ports: '30000-32767', sources: ['0.0.0.0/0'], to: 'workers' };
    expect(worldInbound(firewalls(configWith({ firewall: { ingressSources: [], extraIngress: [extra] } })))).toEqual(['lotse-workers:30000-32767']);
  });
});

describe('digitalocean counts follow cluster.yaml', () => {
  test('masters, workers and ssh keys', () => {
    const key2 = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0second second@host';
    const config = configWith({ digitalocean: { masters: 3, workers: 5 } });
    const stack = synth({ ...config, sshAuthorizedKeys: [...config.sshAuthorizedKeys, key2] });
    expect(resources(stack, 'digitalocean_droplet')).toHaveLength(8);
    expect(resources(stack, 'digitalocean_ssh_key')).toHaveLength(2);
    expect((stack.json.output?.masterAddresses.value as string[]).length).toBe(3);
    expect((stack.json.output?.workerAddresses.value as string[]).length).toBe(5);
    expectIgnitionsSound(stack, 8);
  });

  test('several masters get a load balancer passing 6443 through, checking /readyz, admitted by the masters\' firewall from the VPC', () => {
    const stack = synth(configWith({ digitalocean: { masters: 3 } }));
    expect(stack.text).toHaveResourceWithProperties(Loadbalancer, {
      name: 'lotse-api',
      droplet_tag: '${digitalocean_tag.tag-master.name}',
      forwarding_rule: [{ entry_port: 6443, entry_protocol: 'tcp', target_port: 6443, target_protocol: 'tcp' }],
      healthcheck: expect.objectContaining({ port: 6443, protocol: 'https', path: '/readyz' }),
    });
    expect(stack.json.output?.apiAddress.value).toMatch(/^\$\{digitalocean_loadbalancer\.api_lb_\w+\.ip\}:6443$/);
    const masters = (resources(stack, 'digitalocean_firewall') as Array<{ name: string; inbound_rule: Array<{ port_range?: string; source_addresses?: string[] }> }>).find((f) => f.name === 'lotse-masters');
    expect(masters?.inbound_rule).toContainEqual(expect.objectContaining({ port_range: '6443', source_addresses: ['10.240.0.0/24'] }));
    expect(resources(synth(configWith()), 'digitalocean_loadbalancer')).toHaveLength(0);
  });

  test('an explicit imageUrl wins', () => {
    const stack = synth(configWith({ digitalocean: { imageUrl: 'https://example.com/fcos.qcow2.gz' } }));
    expect(stack.text).toHaveResourceWithProperties(CustomImage, { url: 'https://example.com/fcos.qcow2.gz' });
  });
});

// The typed binding and the synthesized type name agree.
test('digitalocean_firewall comes from the prebuilt binding', () => {
  expect(synth(configWith()).text).toHaveResource(Firewall);
});
