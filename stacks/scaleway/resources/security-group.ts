import type { Construct } from 'constructs';
import { ScalewayResource } from './scaleway-resource';

export interface SecurityGroupRule {
  readonly protocol: 'TCP' | 'UDP' | 'ICMP';
  /** "22" or "2379-2380"; absent for ICMP. */
  readonly ports?: string;
  readonly ipRange: string;
}

export interface SecurityGroupProps {
  readonly name: string;
  readonly zone: string;
  readonly inbound: readonly SecurityGroupRule[];
  readonly tags?: readonly string[];
}

/** scaleway_instance_security_group: drop inbound by default, accept listed rules, allow outbound. */
export class SecurityGroup extends ScalewayResource {
  constructor(scope: Construct, id: string, props: SecurityGroupProps) {
    super(scope, id, 'scaleway_instance_security_group', {
      name: props.name,
      zone: props.zone,
      stateful: true,
      inbound_default_policy: 'drop',
      outbound_default_policy: 'accept',
      tags: props.tags,
      inbound_rule: props.inbound.map((r) => ({
        action: 'accept',
        protocol: r.protocol,
        ip_range: r.ipRange,
        ...(r.ports === undefined ? {} : r.ports.includes('-') ? { port_range: r.ports } : { port: Number(r.ports) }),
      })),
    });
  }
}
