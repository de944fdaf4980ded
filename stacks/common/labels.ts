import type { HostRole } from '../../cluster/cluster-outputs-document';

/** Labels/tags every cloud resource carries, so a console filter finds the whole cluster. */
export function clusterLabels(cluster: string, role?: HostRole): Record<string, string> {
  return { 'lotse-cluster': cluster, 'managed-by': 'lotse', ...(role ? { 'lotse-role': role } : {}) };
}
