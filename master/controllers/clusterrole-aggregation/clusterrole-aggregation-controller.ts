import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1';
import { Selector } from '../../../kube/label-selector';
import type { ResourceRef } from '../../../kube/resource-path';
import type { InformerLike } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';

const clusterRolesRef: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };

/**
 * Fills each ClusterRole that has an aggregationRule with the rules of every ClusterRole its
 * selectors match, as Kubernetes' clusterrole-aggregation controller does: labelling a role
 * `rbac.authorization.k8s.io/aggregate-to-view: "true"` adds its rules to `view` (and, through
 * view's own labels, to edit and admin). Any change to any ClusterRole re-checks the aggregated ones.
 */
export class ClusterRoleAggregationController extends QueueController {
  readonly name = 'clusterrole-aggregation-controller';
  private readonly roles: InformerLike<ClusterRole>;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 1, failure: 'clusterrole aggregation failed', keyField: 'clusterRole', baseDelayMs: 200, maxDelayMs: 10_000 });
    this.roles = ctx.informers.get<ClusterRole>(clusterRolesRef);
    this.roles.on(() => {
      for (const r of this.roles.list()) if (r.aggregationRule) this.queue.add(r.metadata?.name ?? '');
    });
  }

  protected async sync(name: string): Promise<void> {
    const role = this.roles.get(name);
    const selectors = (role?.aggregationRule?.clusterRoleSelectors ?? []).map((s) => Selector.fromLabelSelector(s));
    if (!role || selectors.length === 0) return;
    const rules: PolicyRule[] = [];
    const seen = new Set<string>();
    const sources = this.roles.list().filter((r) => r.metadata?.name !== name && selectors.some((s) => s.matches(r.metadata?.labels))).sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
    for (const source of sources) {
      for (const rule of source.rules ?? []) {
        const key = JSON.stringify(rule);
        if (seen.has(key)) continue;
        seen.add(key);
        rules.push(rule);
      }
    }
    if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) return;
    await this.ctx.client.update<ClusterRole>({ ...clusterRolesRef, name }, { ...role, rules } as ClusterRole & { metadata: object });
  }
}
