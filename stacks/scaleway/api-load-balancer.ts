import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { ApiLoadBalancer } from '../common/cluster-machines';
import { Lb, LbBackend, LbFrontend, type LbIp } from './resources/load-balancer';

export interface ScalewayApiLoadBalancerProps {
  readonly name: string;
  readonly zone: string;
  /** Made before the firewall, which must admit it on 6443. */
  readonly ip: LbIp;
  /** The masters' flexible IPs. */
  readonly masters: readonly string[];
  readonly tags?: readonly string[];
}

/**
 * One stable API address in front of every master: a Scaleway load balancer passing TCP 6443 to
 * the masters' flexible IPs (TLS ends at the masters), checking each one's /readyz over HTTPS.
 */
export class ScalewayApiLoadBalancer extends Construct implements ApiLoadBalancer {
  readonly address: string;
  readonly port = 6443;
  readonly dependable: ITerraformDependable;

  constructor(scope: Construct, id: string, props: ScalewayApiLoadBalancerProps) {
    super(scope, id);
    const lb = new Lb(this, 'lb', { name: `${props.name}-api`, zone: props.zone, ipId: props.ip.id, tags: props.tags });
    const backend = new LbBackend(this, 'backend', { name: `${props.name}-api`, lbId: lb.id, port: 6443, serverIps: props.masters, healthPath: '/readyz' });
    this.dependable = new LbFrontend(this, 'frontend', { name: `${props.name}-api`, lbId: lb.id, backendId: backend.id, port: 6443 });
    this.address = props.ip.address;
  }
}
