import { ComputeAddress } from '@cdktf/provider-google/lib/compute-address';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { clusterMachines } from '../common/cluster-machines';
import type { ClusterOutputs } from '../common/cluster-outputs';
import { clusterLabels } from '../common/labels';
import { planNodes } from '../common/node-plan';
import type { ClusterConfig, GceConfig } from '../config/cluster-config';
import { firewallMatrix } from '../firewall/matrix';
import { GceApiLoadBalancer, GCE_PROXY_SOURCE_RANGES } from './api-load-balancer';
import { GceFirewall } from './firewall';
import { GceImage } from './image';
import { GceNetwork } from './network';
import { GceNode } from './node';

/** Name of this stack in the cdktf app: `cdktf deploy gce`. */
export const GCE_STACK = 'gce';

/**
 * A cluster on Google Compute Engine: VPC and subnetwork, the firewall matrix, a reserved address
 * per master, FCOS or Flatcar instances with Ignition in `user-data`, outputs, and the bootstrap.
 */
export class GceStack extends TerraformStack {
  readonly nodes: GceNode[];
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
    const balanced = gce.masters > 1;
    // With several masters, Google's TCP proxies and health checkers reach the API on 6443.
    const proxies = balanced ? [{ name: 'api-proxy', protocol: 'tcp' as const, ports: { from: 6443, to: 6443 }, source: { kind: 'cidrs' as const, cidrs: GCE_PROXY_SOURCE_RANGES }, target: 'masters' as const, why: "the API load balancer's proxies and health checks" }] : [];
    new GceFirewall(this, 'firewall', { prefix: name, network: net.network.name, rules: [...firewallMatrix(cluster), ...proxies], adminCidrs: cluster.adminCidrs, tags });
    const image = new GceImage(this, 'image', { os: cluster.os, stream: cluster.stream });

    ({ nodes: this.nodes, outputs: this.outputs } = clusterMachines(this, {
      cluster,
      os: cluster.os,
      planned: planNodes(name, gce.masters, gce.workers),
      machine: (node, ignition) => {
        const isMaster = node.role === 'master';
        const address = isMaster
          ? new ComputeAddress(this, `${node.name}-address`, { name: node.name, region: gce.region, labels: clusterLabels(name, node.role) })
          : undefined;
        return new GceNode(this, node.name, {
          node,
          zone: gce.zone,
          machineType: isMaster ? gce.masterType : gce.workerType,
          image: image.image,
          diskSizeGb: gce.diskSizeGb,
          subnetwork: net.subnetwork.id,
          ignition,
          tags: [tags.cluster, isMaster ? tags.master : tags.worker],
          labels: clusterLabels(name, node.role),
          natIp: address?.address,
        });
      },
      apiLoadBalancer: (masters) => new GceApiLoadBalancer(this, 'api', { name, zone: gce.zone, network: net.network.id, masters: masters.map((m) => m.instance.selfLink) }),
    }));
  }
}
