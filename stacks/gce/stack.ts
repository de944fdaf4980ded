import { ComputeAddress } from '@cdktf/provider-google/lib/compute-address';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { BootstrapRun } from '../common/bootstrap-run';
import type { ClusterHost } from '../common/cluster-host';
import { ClusterOutputs } from '../common/cluster-outputs';
import { clusterLabels } from '../common/labels';
import { planNodes } from '../common/node-plan';
import type { ClusterConfig, GceConfig } from '../config/cluster-config';
import { firewallMatrix } from '../firewall/matrix';
import { SSH_USER, nodeIgnition } from '../ignition/node-ignition';
import { GceFirewall } from './firewall';
import { gceImage } from './image';
import { GceNetwork } from './network';
import { GceNode } from './node';

/** Name of this stack in the cdktf app: `cdktf deploy gce`. */
export const GCE_STACK = 'gce';

/**
 * A cluster on Google Compute Engine: VPC and subnetwork, the firewall matrix, a reserved address
 * per master, FCOS or Flatcar instances with Ignition in `user-data`, outputs, and the bootstrap.
 */
export class GceStack extends TerraformStack {
  readonly nodes: GceNode[] = [];
  readonly outputs: ClusterOutputs;

  constructor(scope: Construct, id: string, cluster: ClusterConfig, gce: GceConfig) {
    super(scope, id);
    new GoogleProvider(this, 'google', {
      project: gce.project,
      region: gce.region,
      zone: gce.zone,
      ...(gce.credentialsFile ? { credentials: gce.credentialsFile } : {}),
    });
    const name = cluster.name;
    const net = new GceNetwork(this, 'network', { name, region: gce.region, cidr: cluster.network.nodeCidr });
    const tags = { cluster: name, master: `${name}-master`, worker: `${name}-worker` };
    new GceFirewall(this, 'firewall', { prefix: name, network: net.network.name, rules: firewallMatrix(cluster), adminCidrs: cluster.adminCidrs, tags });

    const hosts: ClusterHost[] = [];
    for (const node of planNodes(name, gce.masters, gce.workers)) {
      const isMaster = node.role === 'master';
      const address = isMaster
        ? new ComputeAddress(this, `${node.name}-address`, { name: node.name, region: gce.region, labels: clusterLabels(name, node.role) })
        : undefined;
      const machine = new GceNode(this, node.name, {
        node,
        zone: gce.zone,
        machineType: isMaster ? gce.masterType : gce.workerType,
        image: gceImage(cluster.os, cluster.stream),
        diskSizeGb: gce.diskSizeGb,
        subnetwork: net.subnetwork.id,
        ignition: nodeIgnition({ hostname: node.name, role: node.role, os: cluster.os, sshAuthorizedKeys: cluster.sshAuthorizedKeys, images: cluster.images }).render(),
        tags: [tags.cluster, isMaster ? tags.master : tags.worker],
        labels: clusterLabels(name, node.role),
        natIp: address?.address,
      });
      this.nodes.push(machine);
      hosts.push({ name: node.name, role: node.role, address: machine.publicAddress, privateAddress: machine.privateAddress, user: SSH_USER, port: 22 });
    }

    this.outputs = new ClusterOutputs(this, { clusterName: name, store: cluster.store, sshUser: SSH_USER, hosts });
    if (cluster.bootstrap.enabled) {
      new BootstrapRun(this, 'bootstrap', { outputs: this.outputs.document, command: cluster.bootstrap.command, dependsOn: this.nodes.map((n) => n.instance) });
    }
  }
}
