import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall';
import { Construct } from 'constructs';
import { portText, type FirewallRule, type RuleTarget } from '../firewall/matrix';

export interface GceFirewallProps {
  readonly prefix: string;
  readonly network: string;
  readonly rules: readonly FirewallRule[];
  readonly adminCidrs: readonly string[];
  /** Network tags: every machine carries `cluster` and its role's tag. */
  readonly tags: { readonly cluster: string; readonly master: string; readonly worker: string };
}

/**
 * The firewall matrix as GCE rules. Cluster-internal rules match by network tag rather than
 * address, so they follow machines as they come and go. GCE denies other ingress implicitly.
 */
export class GceFirewall extends Construct {
  readonly rules: ComputeFirewall[] = [];

  constructor(scope: Construct, id: string, props: GceFirewallProps) {
    super(scope, id);
    const targetTag = (t: RuleTarget): string => (t === 'all' ? props.tags.cluster : t === 'masters' ? props.tags.master : props.tags.worker);
    for (const rule of props.rules) {
      const source = rule.source;
      if (source.kind === 'admin' && props.adminCidrs.length === 0) continue;
      this.rules.push(
        new ComputeFirewall(this, rule.name, {
          name: `${props.prefix}-${rule.name}`,
          description: rule.why,
          network: props.network,
          direction: 'INGRESS',
          allow: [{ protocol: rule.protocol, ...(rule.ports ? { ports: [portText(rule.ports)] } : {}) }],
          targetTags: [targetTag(rule.target)],
          ...(source.kind === 'cluster'
            ? { sourceTags: [props.tags.cluster] }
            : { sourceRanges: [...(source.kind === 'admin' ? props.adminCidrs : source.cidrs)] }),
        }),
      );
    }
  }
}
