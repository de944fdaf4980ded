import { ComputeBackendService } from '@cdktf/provider-google/lib/compute-backend-service';
import { ComputeGlobalAddress } from '@cdktf/provider-google/lib/compute-global-address';
import { ComputeGlobalForwardingRule } from '@cdktf/provider-google/lib/compute-global-forwarding-rule';
import { ComputeHealthCheck } from '@cdktf/provider-google/lib/compute-health-check';
import { ComputeInstanceGroup } from '@cdktf/provider-google/lib/compute-instance-group';
import { ComputeTargetTcpProxy } from '@cdktf/provider-google/lib/compute-target-tcp-proxy';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { ApiLoadBalancer } from '../common/cluster-machines';

/** Where Google's proxies and health checkers connect from; the masters' firewall must admit them on 6443. */
export const GCE_PROXY_SOURCE_RANGES = ['130.211.0.0/22', '35.191.0.0/16'];
/** TCP proxy load balancers accept a fixed list of ports, and 6443 is not in it; 443 is (Typhoon's choice too). */
export const GCE_API_PORT = 443;

export interface GceApiLoadBalancerProps {
  readonly name: string;
  readonly zone: string;
  readonly network: string;
  /** Self links of the master instances. */
  readonly masters: readonly string[];
}

/**
 * One stable API address in front of every master: a global TCP proxy load balancer (address,
 * forwarding rule on 443, TCP proxy, backend service over an instance group of the masters, an
 * HTTPS health check of /readyz). A proxy, not a pass-through balancer, because Fedora CoreOS and
 * Flatcar run no Google guest agent to accept packets addressed to a forwarding rule's IP.
 */
export class GceApiLoadBalancer extends Construct implements ApiLoadBalancer {
  readonly address: string;
  readonly port = GCE_API_PORT;
  readonly dependable: ITerraformDependable;

  constructor(scope: Construct, id: string, props: GceApiLoadBalancerProps) {
    super(scope, id);
    const ip = new ComputeGlobalAddress(this, 'address', { name: `${props.name}-api` });
    const group = new ComputeInstanceGroup(this, 'masters', {
      name: `${props.name}-masters`,
      zone: props.zone,
      network: props.network,
      instances: [...props.masters],
      namedPort: [{ name: 'apiserver', port: 6443 }],
    });
    const health = new ComputeHealthCheck(this, 'health', {
      name: `${props.name}-api-health`,
      checkIntervalSec: 5,
      timeoutSec: 5,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
      httpsHealthCheck: { port: 6443, requestPath: '/readyz' },
    });
    const backend = new ComputeBackendService(this, 'backend', {
      name: `${props.name}-api`,
      protocol: 'TCP',
      portName: 'apiserver',
      timeoutSec: 300,
      loadBalancingScheme: 'EXTERNAL',
      healthChecks: [health.id],
      backend: [{ group: group.id, balancingMode: 'UTILIZATION', maxUtilization: 1 }],
    });
    const proxy = new ComputeTargetTcpProxy(this, 'proxy', { name: `${props.name}-api`, backendService: backend.id });
    this.dependable = new ComputeGlobalForwardingRule(this, 'forwarding', {
      name: `${props.name}-api`,
      ipAddress: ip.address,
      ipProtocol: 'TCP',
      portRange: String(GCE_API_PORT),
      loadBalancingScheme: 'EXTERNAL',
      target: proxy.id,
    });
    this.address = ip.address;
  }
}
