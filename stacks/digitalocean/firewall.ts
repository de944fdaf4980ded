import { Firewall, type FirewallInboundRule } from '@cdktf/provider-digitalocean/lib/firewall';
import { Construct } from 'constructs';
import { portText, type FirewallRule, type RuleTarget } from '../firewall/matrix';

export interface DigitalOceanFirewallProps {
  readonly prefix: string;
  readonly rules: readonly FirewallRule[];
  readonly adminCidrs: readonly string[];
  /** Droplet tags: every droplet carries `cluster` and its role's tag. */
  readonly tags: { readonly cluster: string; readonly master: string; readonly worker: string };
  /** Where droplets may connect to (image pulls, package mirrors). */
  readonly egressCidrs: readonly string[];
}

const EVERYWHERE_OUT = ['tcp', 'udp', 'icmp'] as const;

/**
 * The firewall matrix as DigitalOcean cloud firewalls, one per target (all, masters, workers) and
 * applied by droplet tag. A DigitalOcean firewall drops inbound traffic it does not list.
 */
export class DigitalOceanFirewall extends Construct {
  readonly firewalls: Firewall[] = [];

  constructor(scope: Construct, id: string, props: DigitalOceanFirewallProps) {
    super(scope, id);
    const targets: Array<[RuleTarget, string]> = [['all', props.tags.cluster], ['masters', props.tags.master], ['workers', props.tags.worker]];
    for (const [target, tag] of targets) {
      const inbound = props.rules.filter((r) => r.target === target).flatMap((r) => this.inbound(r, props));
      if (inbound.length === 0) continue;
      this.firewalls.push(
        new Firewall(this, target, {
          name: `${props.prefix}-${target}`,
          tags: [tag],
          inboundRule: inbound,
          // Outbound lives on the all-machines firewall only; DigitalOcean unions firewalls per droplet.
          outboundRule:
            target === 'all'
              ? EVERYWHERE_OUT.map((protocol) => ({ protocol, destinationAddresses: [...props.egressCidrs], ...(protocol === 'icmp' ? {} : { portRange: '1-65535' }) }))
              : undefined,
        }),
      );
    }
  }

  private inbound(rule: FirewallRule, props: DigitalOceanFirewallProps): FirewallInboundRule[] {
    const source = rule.source;
    if (source.kind === 'admin' && props.adminCidrs.length === 0) return [];
    return [
      {
        protocol: rule.protocol,
        ...(rule.ports ? { portRange: portText(rule.ports) } : {}),
        ...(source.kind === 'cluster'
          ? { sourceTags: [props.tags.cluster] }
          : { sourceAddresses: [...(source.kind === 'admin' ? props.adminCidrs : source.cidrs)] }),
      },
    ];
  }
}
