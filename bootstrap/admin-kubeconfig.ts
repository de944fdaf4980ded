import { mergeKubeconfigEntry } from '../kube/kubeconfig-file';

/** What a user's kubeconfig needs to reach a bootstrapped cluster as its admin. */
export interface ClusterAdminAccess {
  name: string;
  server: string;
  caPem: string;
  token: string;
  /** Every master's own address, when no load balancer fronts them: a context `NAME@MASTER` each. */
  masters?: { name: string; server: string }[];
}

/**
 * Adds or updates the cluster, user `NAME-admin` and context `NAME`, and makes it current. With
 * several masters and no load balancer, also a context `NAME@MASTER` per master, so that losing
 * the first master is `kubectl --context NAME@m2` away (kubectl takes one server per cluster).
 * Returns undefined when the file already said all this (no change), else the backup's path
 * ('' for a new file).
 */
export function mergeAdminKubeconfig(path: string, entry: ClusterAdminAccess): string | undefined {
  const change = mergeKubeconfigEntry(path, {
    name: entry.name,
    userName: `${entry.name}-admin`,
    cluster: { server: entry.server, 'certificate-authority-data': Buffer.from(entry.caPem).toString('base64') },
    user: { token: entry.token },
    alternates: (entry.masters ?? []).map((m) => ({ name: `${entry.name}@${m.name}`, cluster: { server: m.server } })),
  });
  return change.changed ? (change.backup ?? '') : undefined;
}
