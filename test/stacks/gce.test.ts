import { ComputeAddress } from '@cdktf/provider-google/lib/compute-address';
import { ComputeBackendService } from '@cdktf/provider-google/lib/compute-backend-service';
import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall';
import { ComputeGlobalForwardingRule } from '@cdktf/provider-google/lib/compute-global-forwarding-rule';
import { ComputeHealthCheck } from '@cdktf/provider-google/lib/compute-health-check';
import { ComputeInstance } from '@cdktf/provider-google/lib/compute-instance';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import type { ClusterConfig } from '../../stacks/config/cluster-config';
import { GceFirewall } from '../../stacks/gce/firewall';
import { GceStack } from '../../stacks/gce/stack';
import { firewallMatrix } from '../../stacks/firewall/matrix';
import { configWith } from './helpers';
import { expectBootstrap, expectClusterOutputs, expectIgnitionsSound, parsed, resources, type SynthesizedStack } from './stack-checks';
import { suiteApps } from './test-app';

Testing.setupJest();
const apps = suiteApps();

function synth(config: ClusterConfig): SynthesizedStack {
  return parsed(Testing.synth(new GceStack(apps.app(), 'gce', config, config.gce!)));
}

type Firewall = { name: string; source_ranges?: string[]; source_tags?: string[]; target_tags: string[]; allow: Array<{ protocol: string; ports?: string[] }> };

describe.each([
  ['fedora-coreos', 'projects/fedora-coreos-cloud/global/images/family/fedora-coreos-stable'],
  ['flatcar', 'projects/kinvolk-public/global/images/family/flatcar-stable'],
] as const)('gce stack on %s', (os, image) => {
  const stack = synth(configWith({ os }));

  test('network, subnetwork, provider and a static address for the master', () => {
    expect(stack.text).toHaveProviderWithProperties(GoogleProvider, { project: 'my-gcp-project', region: 'europe-west1', zone: 'europe-west1-b' });
    expect(stack.text).toHaveResourceWithProperties(ComputeNetwork, { name: 'lotse', auto_create_subnetworks: false });
    expect(stack.text).toHaveResourceWithProperties(ComputeSubnetwork, { name: 'lotse', ip_cidr_range: '10.240.0.0/24', region: 'europe-west1' });
    expect(stack.text).toHaveResourceWithProperties(ComputeAddress, { name: 'lotse-master-0' });
    expect(stack.json.terraform.required_providers.google.source).toBe('google');
  });

  test('instances boot the OS image with Ignition in user-data, labels and tags', () => {
    expect(stack.text).toHaveResourceWithProperties(ComputeInstance, {
      name: 'lotse-master-0',
      machine_type: 'e2-medium',
      boot_disk: { initialize_params: expect.objectContaining({ image }) },
      tags: ['lotse', 'lotse-master'],
      labels: { 'lotse-cluster': 'lotse', 'lotse-role': 'master', 'managed-by': 'lotse' },
      metadata: expect.objectContaining({ 'block-project-ssh-keys': 'true' }),
    });
    const instances = resources(stack, 'google_compute_instance') as Array<{ name: string; metadata: Record<string, string>; network_interface: unknown }>;
    expect(instances[0].network_interface).toEqual([
      { subnetwork: expect.stringMatching(/^\$\{google_compute_subnetwork\./), access_config: [{ nat_ip: '${google_compute_address.lotse-master-0-address.address}' }] },
    ]);
    expect(instances[1].network_interface).toEqual([{ subnetwork: expect.any(String), access_config: [{}] }]);
    expect(instances.map((i) => i.name)).toEqual(['lotse-master-0', 'lotse-worker-0', 'lotse-worker-1']);
    for (const instance of instances) expect(instance.metadata['user-data']).toContain(encodeURIComponent(`${instance.name}\n`));
  });

  test('every Ignition is valid, under 256 KiB, and the output has no secret', () => expectIgnitionsSound(stack, 3));
  test('outputs and the bootstrap exist', () => {
    expectClusterOutputs(stack);
    expectBootstrap(stack, 'google_compute_instance', 3);
  });
});

describe('gce firewall matrix', () => {
  const rulesOf = (config: ClusterConfig): Firewall[] => resources(synth(config), 'google_compute_firewall') as Firewall[];

  test('SSH and the API from adminCidrs only; cluster ports between cluster machines only', () => {
    const stack = synth(configWith({ adminCidrs: ['198.51.100.0/24', '203.0.113.7/32'] }));
    const admin = ['198.51.100.0/24', '203.0.113.7/32'];
    expect(stack.text).toHaveResourceWithProperties(ComputeFirewall, { name: 'lotse-ssh', source_ranges: admin, target_tags: ['lotse'], allow: [{ protocol: 'tcp', ports: ['22'] }] });
    expect(stack.text).toHaveResourceWithProperties(ComputeFirewall, { name: 'lotse-api', source_ranges: admin, target_tags: ['lotse-master'], allow: [{ protocol: 'tcp', ports: ['6443'] }] });
    expect(stack.text).toHaveResourceWithProperties(ComputeFirewall, { name: 'lotse-vxlan', source_tags: ['lotse'], target_tags: ['lotse'], allow: [{ protocol: 'udp', ports: ['8472'] }] });
    expect(stack.text).toHaveResourceWithProperties(ComputeFirewall, { name: 'lotse-agent', source_tags: ['lotse'], allow: [{ protocol: 'tcp', ports: ['10250'] }] });
    expect(stack.text).toHaveResourceWithProperties(ComputeFirewall, { name: 'lotse-etcd', source_tags: ['lotse'], target_tags: ['lotse-master'], allow: [{ protocol: 'tcp', ports: ['2379-2380'] }] });
    // the web reaches the workers' ingress ports, everything else only from adminCidrs
    expect(stack.text).toHaveResourceWithProperties(ComputeFirewall, { name: 'lotse-https', source_ranges: ['0.0.0.0/0'], target_tags: ['lotse-worker'], allow: [{ protocol: 'tcp', ports: ['443'] }] });
    for (const rule of (resources(stack, 'google_compute_firewall') as Firewall[]).filter((r) => !['lotse-http', 'lotse-https'].includes(r.name))) {
      expect({ rule: rule.name, ranges: rule.source_ranges ?? admin }).toEqual({ rule: rule.name, ranges: admin });
    }
  });

  test('only the ingress ports are open to 0.0.0.0/0, unless firewall.ingressSources or extraIngress say otherwise', () => {
    const open = (rules: Firewall[]): string[] => rules.filter((r) => r.source_ranges?.includes('0.0.0.0/0')).map((r) => r.name);
    expect(open(rulesOf(configWith()))).toEqual(['lotse-http', 'lotse-https']);
    expect(open(rulesOf(configWith({ firewall: { ingressSources: [] } })))).toEqual([]);
    const extra = { name: 'nodeports', protocol: 'tcp', ports: '30000-32767', sources: ['0.0.0.0/0'], to: 'workers' };
    const rules = rulesOf(configWith({ firewall: { ingressSources: [], extraIngress: [extra] } }));
    expect(open(rules)).toEqual(['lotse-x-nodeports']);
    expect(rules.find((r) => r.name === 'lotse-x-nodeports')).toMatchObject({ target_tags: ['lotse-worker'], allow: [{ protocol: 'tcp', ports: ['30000-32767'] }] });
  });
});

describe('GceFirewall construct', () => {
  test('without adminCidrs it opens nothing to the outside and keeps the cluster rules', () => {
    const config = configWith({ firewall: { ingressSources: [] } });
    const scope = new TerraformStack(apps.app(), 'stack');
    new GceFirewall(scope, 'fw', { prefix: 'c', network: 'net', rules: firewallMatrix(config), adminCidrs: [], tags: { cluster: 'c', master: 'c-m', worker: 'c-w' } });
    const text = Testing.synth(scope);
    const rules = Object.values((JSON.parse(text) as { resource: { google_compute_firewall: Record<string, Firewall> } }).resource.google_compute_firewall);
    expect(rules.map((r) => r.name).sort()).toEqual(['c-agent', 'c-api-nodes', 'c-etcd', 'c-icmp', 'c-vxlan']);
    expect(rules.every((r) => r.source_ranges === undefined && r.source_tags?.[0] === 'c')).toBe(true);
  });
});

describe('gce counts follow cluster.yaml', () => {
  test('3 masters and 4 workers make 7 instances and 3 addresses', () => {
    const stack = synth(configWith({ gce: { masters: 3, workers: 4, workerType: 'e2-standard-4' } }));
    const instances = resources(stack, 'google_compute_instance') as Array<{ name: string; machine_type: string }>;
    expect(instances.filter((i) => i.name.includes('-master-'))).toHaveLength(3);
    expect(instances.filter((i) => i.machine_type === 'e2-standard-4')).toHaveLength(4);
    expect(resources(stack, 'google_compute_address')).toHaveLength(3);
    expectIgnitionsSound(stack, 7);
    expectBootstrap(stack, 'google_compute_instance', 7);
  });

  test('several masters get a TCP proxy load balancer on 443 in front of their API; its address is the outputs\' apiAddress and the bootstrap waits for it', () => {
    const stack = synth(configWith({ gce: { masters: 3 } }));
    expect(stack.text).toHaveResourceWithProperties(ComputeGlobalForwardingRule, { name: 'lotse-api', port_range: '443', ip_protocol: 'TCP', load_balancing_scheme: 'EXTERNAL' });
    expect(stack.text).toHaveResourceWithProperties(ComputeHealthCheck, { https_health_check: { port: 6443, request_path: '/readyz' } });
    expect(stack.text).toHaveResourceWithProperties(ComputeBackendService, { protocol: 'TCP', port_name: 'apiserver', load_balancing_scheme: 'EXTERNAL' });
    const group = resources(stack, 'google_compute_instance_group')[0] as { instances: string[]; named_port: unknown[] };
    expect(group.instances).toHaveLength(3);
    expect(group.instances.every((i) => /google_compute_instance\.lotse-master-\d_instance_\w+\.self_link/.test(i))).toBe(true);
    expect(group.named_port).toEqual([{ name: 'apiserver', port: 6443 }]);
    expect(stack.text).toHaveResourceWithProperties(ComputeFirewall, { name: 'lotse-api-proxy', source_ranges: ['130.211.0.0/22', '35.191.0.0/16'], target_tags: ['lotse-master'], allow: [{ protocol: 'tcp', ports: ['6443'] }] });
    expect(stack.json.output?.apiAddress.value).toMatch(/^\$\{google_compute_global_address\.api_address_\w+\.address\}:443$/);
    const run = resources(stack, 'terraform_data')[0] as { depends_on: string[] };
    expect(run.depends_on.some((d) => d.startsWith('google_compute_global_forwarding_rule.'))).toBe(true);
  });

  test('one master gets no load balancer: the kubeconfig points at the master itself', () => {
    const stack = synth(configWith());
    expect(resources(stack, 'google_compute_global_forwarding_rule')).toHaveLength(0);
    expect(stack.json.output?.apiAddress).toBeUndefined();
  });

  test('zero workers and no bootstrap when disabled', () => {
    const stack = synth(configWith({ gce: { workers: 0 }, bootstrap: { enabled: false } }));
    expect(resources(stack, 'google_compute_instance')).toHaveLength(1);
    expect(resources(stack, 'terraform_data')).toHaveLength(0);
    expect(stack.json.output?.workerAddresses.value).toEqual([]);
  });
});
