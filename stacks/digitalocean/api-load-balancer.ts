import { Loadbalancer } from '@cdktf/provider-digitalocean/lib/loadbalancer';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { ApiLoadBalancer } from '../common/cluster-machines';

export interface DigitalOceanApiLoadBalancerProps {
  readonly name: string;
  readonly region: string;
  readonly vpcUuid: string;
  /** The tag every master droplet carries: the balancer sends to whatever droplet has it. */
  readonly masterTag: string;
}

/**
 * One stable API address in front of every master: a DigitalOcean load balancer in the cluster's
 * VPC passing TCP 6443 through (TLS ends at the masters, whose certificate names the balancer's
 * address), checking each master's /readyz over HTTPS. It reaches the droplets from its VPC
 * address, so the masters' firewall admits the VPC range on 6443.
 */
export class DigitalOceanApiLoadBalancer extends Construct implements ApiLoadBalancer {
  readonly address: string;
  readonly port = 6443;
  readonly dependable: ITerraformDependable;

  constructor(scope: Construct, id: string, props: DigitalOceanApiLoadBalancerProps) {
    super(scope, id);
    const lb = new Loadbalancer(this, 'lb', {
      name: `${props.name}-api`,
      region: props.region,
      vpcUuid: props.vpcUuid,
      dropletTag: props.masterTag,
      forwardingRule: [{ entryPort: 6443, entryProtocol: 'tcp', targetPort: 6443, targetProtocol: 'tcp' }],
      healthcheck: { port: 6443, protocol: 'https', path: '/readyz', checkIntervalSeconds: 5, responseTimeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 2 },
    });
    this.address = lb.ip;
    this.dependable = lb;
  }
}
