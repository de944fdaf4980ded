import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1';
import { Selector } from '../../../kube/label-selector';
import type { ResourceRef } from '../../../kube/resource-path';
import type { Controller, ControllerContext } from '../controller-context';
import type { InformerLike } from '../shared-informers';
import { WorkQueue } from '../work-queue';

const clusterRolesRef: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };

/**
 * Fills each ClusterRole that has an aggregationRule with the rules of every ClusterRole its
 * selectors match, as Kubernetes' clusterrole-aggregation controller does: labelling a role
 * `rbac.authorization.k8s.io/aggregate-to-view: "true"` adds its rules to `view` (and, through
 * view's own labels, to edit and admin). Any change to any ClusterRole re-checks the aggregated ones.
 */
export class ClusterRoleAggregationController implements Controller {
  readonly name = 'clusterrole-aggregation-controller';
  private readonly queue = new WorkQueue(200, 10_000);
  private readonly roles: InformerLike<ClusterRole>;

  constructor(private readonly ctx: ControllerContext) {
    this.roles = ctx.informers.get<ClusterRole>(clusterRolesRef);
    this.roles.on(() => {
      for (const r of this.roles.list()) if (r.aggregationRule) this.queue.add(r.metadata?.name ?? '');
    });
  }

  start(): void {
    void this.queue.run(1, (name) => this.sync(name), (name, err) => this.ctx.log('clusterrole aggregation failed', { clusterRole: name, error: err.message }));
  }

  stop(): Promise<void> {
    return this.queue.shutdown();
  }

  private async sync(name: string): Promise<void> {
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
