import { mergeKubeconfigEntry } from '../kube/kubeconfig-file';

/** What a user's kubeconfig needs to reach a bootstrapped cluster as its admin. */
export interface ClusterAdminAccess {
  name: string;
  server: string;
  caPem: string;
  token: string;
}

/**
 * Adds or updates the cluster, user `NAME-admin` and context `NAME`, and makes it current.
 * Returns undefined when the file already said all this (no change), else the backup's path
 * ('' for a new file).
 */
export function mergeAdminKubeconfig(path: string, entry: ClusterAdminAccess): string | undefined {
  const change = mergeKubeconfigEntry(path, {
    name: entry.name,
    userName: `${entry.name}-admin`,
    cluster: { server: entry.server, 'certificate-authority-data': Buffer.from(entry.caPem).toString('base64') },
    user: { token: entry.token },
  });
  return change.changed ? (change.backup ?? '') : undefined;
}
