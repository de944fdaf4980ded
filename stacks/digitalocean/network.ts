import { Vpc } from '@cdktf/provider-digitalocean/lib/vpc';
import { Construct } from 'constructs';

export interface DigitalOceanNetworkProps {
  readonly name: string;
  readonly region: string;
  /** network.nodeCidr; DigitalOcean reserves some 10.x ranges for its own services, see its docs. */
  readonly cidr: string;
}

/** A VPC of its own, so cluster traffic (vxlan, etcd) stays on the private interface. */
export class DigitalOceanNetwork extends Construct {
  readonly vpc: Vpc;

  constructor(scope: Construct, id: string, props: DigitalOceanNetworkProps) {
    super(scope, id);
    this.vpc = new Vpc(this, 'vpc', { name: props.name, region: props.region, ipRange: props.cidr, description: `lotse cluster ${props.name}` });
  }
}
