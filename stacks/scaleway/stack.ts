import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { BootstrapRun } from '../common/bootstrap-run';
import type { ClusterHost } from '../common/cluster-host';
import { ClusterOutputs } from '../common/cluster-outputs';
import { planNodes } from '../common/node-plan';
import type { ClusterConfig, ScalewayConfig } from '../config/cluster-config';
import { firewallMatrix } from '../firewall/matrix';
import { SSH_USER, nodeIgnition } from '../ignition/node-ignition';
import { ScalewayFirewall } from './firewall';
import { ScalewayImage } from './image';
import { ScalewayNode } from './node';
import { InstanceIp } from './resources/instance-ip';
import { ScalewayProvider } from './resources/scaleway-provider';

export const SCALEWAY_STACK = 'scaleway';

/**
 * A cluster on Scaleway. Fedora CoreOS has no Scaleway images, so this stack always boots Flatcar.
 * Flexible IPs first, then security groups naming them, then servers with Ignition in the
 * `cloud-init` user-data key; outputs and the bootstrap as on the other clouds.
 */
export class ScalewayStack extends TerraformStack {
  readonly nodes: ScalewayNode[] = [];
  readonly outputs: ClusterOutputs;

  constructor(scope: Construct, id: string, cluster: ClusterConfig, config: ScalewayConfig) {
    super(scope, id);
    new ScalewayProvider(this, 'scaleway', { zone: config.zone, projectId: config.projectId });
    const name = cluster.name;
    const tags = [`lotse-cluster=${name}`, 'managed-by=lotse'];
    const image = new ScalewayImage(this, 'image', { name: `${name}-flatcar`, config, tags });
    const planned = planNodes(name, config.masters, config.workers);
    const addresses = planned.map((node) => new InstanceIp(this, `${node.name}-ip`, { zone: config.zone, tags }));
    const firewall = new ScalewayFirewall(this, 'firewall', {
      prefix: name,
      zone: config.zone,
      rules: firewallMatrix(cluster),
      adminCidrs: cluster.adminCidrs,
      clusterAddresses: addresses.map((a) => a.address),
      tags,
    });

    const hosts: ClusterHost[] = [];
    planned.forEach((node, i) => {
      const isMaster = node.role === 'master';
      const server = new ScalewayNode(this, node.name, addresses[i], {
        node,
        zone: config.zone,
        type: isMaster ? config.masterType : config.workerType,
        image: image.imageId,
        securityGroupId: (isMaster ? firewall.masters : firewall.workers).id,
        diskSizeGb: config.diskSizeGb,
        ignition: nodeIgnition({ hostname: node.name, role: node.role, os: 'flatcar', sshAuthorizedKeys: cluster.sshAuthorizedKeys, images: cluster.images }).render(),
        tags: [...tags, `lotse-role=${node.role}`],
      });
      this.nodes.push(server);
      const address = addresses[i].address;
      hosts.push({ name: node.name, role: node.role, address, privateAddress: address, user: SSH_USER, port: 22 });
    });

    this.outputs = new ClusterOutputs(this, { clusterName: name, store: cluster.store, sshUser: SSH_USER, hosts });
    if (cluster.bootstrap.enabled) {
      new BootstrapRun(this, 'bootstrap', { outputs: this.outputs.document, command: cluster.bootstrap.command, dependsOn: this.nodes.map((n) => n.server) });
    }
  }
}
