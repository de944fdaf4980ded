import fs from 'node:fs';
import YAML from 'yaml';
import { mergeKubeconfigEntry, removeKubeconfigEntry } from '../../kube/kubeconfig-file';

/** The context, cluster and user names `lotse up` owns in the user's kubeconfig. */
export const CONTEXT_NAME = 'lotse';

export interface MergeResult {
  path: string;
  /** The copy written before the change; undefined when the file did not exist or was unchanged. */
  backup?: string;
}

/**
 * Puts the cluster, user and context of `adminKubeconfig` into the user's kubeconfig under the
 * name "lotse" (replacing an older lotse entry), sets current-context to it, and leaves every
 * other entry, comment and key as it was. A backup is written next to the file first.
 */
export function mergeLocalKubeconfig(adminKubeconfig: string, target: string, now: Date = new Date()): MergeResult {
  const { path, backup } = mergeKubeconfigEntry(target, { name: CONTEXT_NAME, ...lotseEntries(adminKubeconfig) }, now);
  return { path, backup };
}

/**
 * Takes the lotse cluster, user and context out of the user's kubeconfig again (`lotse down
 * --purge`: the CA and token they hold are gone). current-context is cleared if it was lotse.
 */
export function removeLocalKubeconfig(target: string, now: Date = new Date()): MergeResult {
  const { path, backup } = removeKubeconfigEntry(target, { name: CONTEXT_NAME }, now);
  return { path, backup };
}

/** The admin kubeconfig with its entries renamed to "lotse", as `lotse kubeconfig` prints it. */
export function renamedAdminKubeconfig(adminKubeconfig: string): string {
  const entries = lotseEntries(adminKubeconfig);
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT_NAME, cluster: entries.cluster }],
    users: [{ name: CONTEXT_NAME, user: entries.user }],
    contexts: [{ name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user: CONTEXT_NAME } }],
    'current-context': CONTEXT_NAME,
  });
}

interface KubeconfigFile {
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  'current-context'?: string;
}

function lotseEntries(adminKubeconfig: string): { cluster: Record<string, unknown>; user: Record<string, unknown> } {
  const config = YAML.parse(fs.readFileSync(adminKubeconfig, 'utf8')) as KubeconfigFile;
  const context = config.contexts?.find((c) => c.name === config['current-context']) ?? config.contexts?.[0];
  const cluster = config.clusters?.find((c) => c.name === context?.context.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context?.context.user)?.user;
  if (!cluster || !user) throw new Error(`${adminKubeconfig} has no complete context (cluster and user): restart the master (lotse down, lotse up) to rewrite it`);
  return { cluster, user };
}
