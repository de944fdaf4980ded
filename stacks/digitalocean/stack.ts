import { DigitaloceanProvider } from '@cdktf/provider-digitalocean/lib/provider';
import { SshKey } from '@cdktf/provider-digitalocean/lib/ssh-key';
import { Tag } from '@cdktf/provider-digitalocean/lib/tag';
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { clusterMachines } from '../common/cluster-machines';
import type { ClusterOutputs } from '../common/cluster-outputs';
import { planNodes } from '../common/node-plan';
import type { ClusterConfig, DigitalOceanConfig } from '../config/cluster-config';
import { firewallMatrix } from '../firewall/matrix';
import { DigitalOceanApiLoadBalancer } from './api-load-balancer';
import { DigitalOceanFirewall } from './firewall';
import { DigitalOceanImage, digitalOceanImageUrl } from './image';
import { DigitalOceanNetwork } from './network';
import { DigitalOceanNode } from './node';

export const DIGITALOCEAN_STACK = 'digitalocean';

/** Droplets pull container images and OS updates from the internet. */
const EGRESS = ['0.0.0.0/0', '::/0'];

/**
 * A cluster on DigitalOcean: the OS imported as a custom image, a VPC, SSH keys, tag-based cloud
 * firewalls from the matrix, droplets with Ignition as user_data, outputs, and the bootstrap.
 * The token comes from DIGITALOCEAN_TOKEN in the environment, never from the stack.
 */
export class DigitalOceanStack extends TerraformStack {
  readonly nodes: DigitalOceanNode[];
  readonly outputs: ClusterOutputs;

  constructor(scope: Construct, id: string, cluster: ClusterConfig, config: DigitalOceanConfig) {
    super(scope, id);
    new DigitaloceanProvider(this, 'digitalocean', {});
    const name = cluster.name;
    const tagNames = { cluster: name, master: `${name}-master`, worker: `${name}-worker` };
    const tags = {
      cluster: new Tag(this, 'tag-cluster', { name: tagNames.cluster }).name,
      master: new Tag(this, 'tag-master', { name: tagNames.master }).name,
      worker: new Tag(this, 'tag-worker', { name: tagNames.worker }).name,
    };
    const net = new DigitalOceanNetwork(this, 'network', { name, region: config.region, cidr: cluster.network.nodeCidr });
    const image = new DigitalOceanImage(this, 'image', {
      name: `${name}-${cluster.os}`,
      region: config.region,
      url: digitalOceanImageUrl(cluster.os, cluster.stream, config),
      os: cluster.os,
      tags: [tags.cluster],
    });
    const keys = cluster.sshAuthorizedKeys.map((publicKey, i) => new SshKey(this, `ssh-key-${i}`, { name: `${name}-${i}`, publicKey }));
    // With several masters, the API load balancer reaches them from its VPC address.
    const balancer = config.masters > 1 ? [{ name: 'api-lb', protocol: 'tcp' as const, ports: { from: 6443, to: 6443 }, source: { kind: 'cidrs' as const, cidrs: [cluster.network.nodeCidr] }, target: 'masters' as const, why: 'the API load balancer and its health checks' }] : [];
    new DigitalOceanFirewall(this, 'firewall', { prefix: name, rules: [...firewallMatrix(cluster), ...balancer], adminCidrs: cluster.adminCidrs, tags, egressCidrs: EGRESS });

    ({ nodes: this.nodes, outputs: this.outputs } = clusterMachines(this, {
      cluster,
      os: cluster.os,
      planned: planNodes(name, config.masters, config.workers),
      machine: (node, ignition) =>
        new DigitalOceanNode(this, node.name, {
          node,
          region: config.region,
          size: node.role === 'master' ? config.masterSize : config.workerSize,
          image: image.image.id,
          vpcUuid: net.vpc.id,
          sshKeys: keys.map((k) => k.fingerprint),
          ignition,
          tags: [tags.cluster, node.role === 'master' ? tags.master : tags.worker],
        }),
      apiLoadBalancer: () => new DigitalOceanApiLoadBalancer(this, 'api', { name, region: config.region, vpcUuid: net.vpc.id, masterTag: tags.master }),
    }));
  }
}
