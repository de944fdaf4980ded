import type { Registry } from '../../api/registry';
import { findResource, type ResourceInfo } from '../../api/resources';
import { HttpError } from '../../api/status';
import { VIEWERS } from '../identity';
import { AUTOUPDATE, defaultClusterRoleBindings, defaultClusterRoles } from './bootstrap-policy';

const clusterRoles = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles') as ResourceInfo;
const clusterRoleBindings = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings') as ResourceInfo;

/**
 * Makes the default ClusterRoles and ClusterRoleBindings on every start: missing ones are created,
 * and those still marked autoupdate get the rules of this version (aggregated roles keep what
 * the aggregation loop gathered on top). Removing the annotation keeps a role as edited.
 */
export async function ensureDefaultPolicy(registry: Registry): Promise<void> {
  for (const role of defaultClusterRoles()) {
    const name = String(role.metadata?.name);
    const existing = await registry.find(clusterRoles, undefined, name);
    if (!existing) {
      await createIgnoringExists(registry, clusterRoles, role as unknown as Record<string, unknown>);
      continue;
    }
    if (existing.metadata?.annotations?.[AUTOUPDATE] !== 'true' || role.aggregationRule) continue;
    if (JSON.stringify(existing.rules) === JSON.stringify(role.rules)) continue;
    await registry.update(clusterRoles, undefined, name, (current) => ({ ...current, rules: role.rules }));
  }
  for (const binding of defaultClusterRoleBindings(VIEWERS)) {
    if (await registry.find(clusterRoleBindings, undefined, String(binding.metadata?.name))) continue;
    await createIgnoringExists(registry, clusterRoleBindings, binding as unknown as Record<string, unknown>);
  }
}

async function createIgnoringExists(registry: Registry, r: ResourceInfo, obj: Record<string, unknown>): Promise<void> {
  try {
    await registry.create(r, undefined, structuredClone(obj));
  } catch (err) {
    // Another master starting on the same store made it first.
    if (!(err instanceof HttpError && err.code === 409)) throw err;
  }
}
