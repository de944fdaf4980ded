import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { clusterMachines } from '../common/cluster-machines';
import type { ClusterOutputs } from '../common/cluster-outputs';
import { planNodes } from '../common/node-plan';
import type { ClusterConfig, ScalewayConfig } from '../config/cluster-config';
import { firewallMatrix } from '../firewall/matrix';
import { ScalewayFirewall } from './firewall';
import { ScalewayImage } from './image';
import { ScalewayNetwork } from './network';
import { ScalewayNode } from './node';
import { InstanceIp } from './resources/instance-ip';
import { LbIp } from './resources/load-balancer';
import { ScalewayApiLoadBalancer } from './api-load-balancer';
import { ScalewayProvider } from './resources/scaleway-provider';

export const SCALEWAY_STACK = 'scaleway';

/**
 * A cluster on Scaleway. Fedora CoreOS has no Scaleway images, so this stack always boots Flatcar.
 * Flexible IPs first, then security groups naming them, then servers with Ignition in the
 * `cloud-init` user-data key; outputs and the bootstrap as on the other clouds.
 */
export class ScalewayStack extends TerraformStack {
  readonly nodes: ScalewayNode[];
  readonly outputs: ClusterOutputs;

  constructor(scope: Construct, id: string, cluster: ClusterConfig, config: ScalewayConfig) {
    super(scope, id);
    new ScalewayProvider(this, 'scaleway', { zone: config.zone, projectId: config.projectId });
    const name = cluster.name;
    const tags = [`lotse-cluster=${name}`, 'managed-by=lotse'];
    new ScalewayNetwork(this, 'network');
    const image = new ScalewayImage(this, 'image', { name: `${name}-flatcar`, config, tags });
    const planned = planNodes(name, config.masters, config.workers);
    const ips = new Map(planned.map((node) => [node.name, new InstanceIp(this, `${node.name}-ip`, { zone: config.zone, tags })]));
    // With several masters, a load balancer in front of their API; it reaches them from its own IP.
    const lbIp = config.masters > 1 ? new LbIp(this, 'api-ip', { zone: config.zone, tags }) : undefined;
    const balancer = lbIp ? [{ name: 'api-lb', protocol: 'tcp' as const, ports: { from: 6443, to: 6443 }, source: { kind: 'cidrs' as const, cidrs: [`${lbIp.address}/32`] }, target: 'masters' as const, why: 'the API load balancer and its health checks' }] : [];
    const firewall = new ScalewayFirewall(this, 'firewall', {
      prefix: name,
      zone: config.zone,
      rules: [...firewallMatrix(cluster), ...balancer],
      adminCidrs: cluster.adminCidrs,
      clusterAddresses: [...ips.values()].map((ip) => ip.address),
      tags,
    });

    ({ nodes: this.nodes, outputs: this.outputs } = clusterMachines(this, {
      cluster,
      os: 'flatcar',
      planned,
      machine: (node, ignition) =>
        new ScalewayNode(this, node.name, {
          node,
          ip: ips.get(node.name)!,
          zone: config.zone,
          type: node.role === 'master' ? config.masterType : config.workerType,
          image: image.imageId,
          securityGroupId: (node.role === 'master' ? firewall.masters : firewall.workers).id,
          diskSizeGb: config.diskSizeGb,
          ignition,
          tags: [...tags, `lotse-role=${node.role}`],
        }),
      apiLoadBalancer: (masters) => new ScalewayApiLoadBalancer(this, 'api', { name, zone: config.zone, ip: lbIp as LbIp, masters: masters.map((m) => m.publicAddress), tags }),
    }));
  }
}
