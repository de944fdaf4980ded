import { Construct } from 'constructs';
import { portText, type FirewallRule, type RuleTarget } from '../firewall/matrix';
import { SecurityGroup, type SecurityGroupRule } from './resources/security-group';

export interface ScalewayFirewallProps {
  readonly prefix: string;
  readonly zone: string;
  readonly rules: readonly FirewallRule[];
  readonly adminCidrs: readonly string[];
  /** The machines' flexible IPs: without a private network, cluster traffic runs between them. */
  readonly clusterAddresses: readonly string[];
  readonly tags: readonly string[];
}

/** The firewall matrix as two security groups (masters, workers); the rest is dropped. */
export class ScalewayFirewall extends Construct {
  readonly masters: SecurityGroup;
  readonly workers: SecurityGroup;

  constructor(scope: Construct, id: string, props: ScalewayFirewallProps) {
    super(scope, id);
    const make = (role: 'masters' | 'workers'): SecurityGroup =>
      new SecurityGroup(this, role, {
        name: `${props.prefix}-${role}`,
        zone: props.zone,
        tags: props.tags,
        inbound: props.rules.filter((r) => appliesTo(r.target, role)).flatMap((r) => this.inbound(r, props)),
      });
    this.masters = make('masters');
    this.workers = make('workers');
  }

  private inbound(rule: FirewallRule, props: ScalewayFirewallProps): SecurityGroupRule[] {
    const source = rule.source;
    const ranges =
      source.kind === 'cluster' ? props.clusterAddresses.map((a) => `${a}/32`) : source.kind === 'admin' ? props.adminCidrs : source.cidrs;
    const protocol = rule.protocol.toUpperCase() as SecurityGroupRule['protocol'];
    return ranges.map((ipRange) => ({ protocol, ipRange, ...(rule.ports ? { ports: portText(rule.ports) } : {}) }));
  }
}

function appliesTo(target: RuleTarget, role: 'masters' | 'workers'): boolean {
  return target === 'all' || target === role;
}
