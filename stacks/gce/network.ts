import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { Construct } from 'constructs';

export interface GceNetworkProps {
  readonly name: string;
  readonly region: string;
  /** The subnetwork's range (network.nodeCidr). */
  readonly cidr: string;
}

/** A custom-mode VPC with one subnetwork: no auto subnets, so no surprise ranges or default rules. */
export class GceNetwork extends Construct {
  readonly network: ComputeNetwork;
  readonly subnetwork: ComputeSubnetwork;

  constructor(scope: Construct, id: string, props: GceNetworkProps) {
    super(scope, id);
    this.network = new ComputeNetwork(this, 'network', { name: props.name, autoCreateSubnetworks: false });
    this.subnetwork = new ComputeSubnetwork(this, 'subnetwork', {
      name: props.name,
      network: this.network.id,
      region: props.region,
      ipCidrRange: props.cidr,
    });
  }
}
