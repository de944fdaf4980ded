import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML, { isMap, isSeq, type Document, type YAMLSeq } from 'yaml';

/** The context, cluster and user names `lotse up` owns in the user's kubeconfig. */
export const CONTEXT_NAME = 'lotse';

export interface MergeResult {
  path: string;
  /** The copy written before the change; undefined when the file did not exist or was unchanged. */
  backup?: string;
}

/** The file kubectl would write: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function userKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(path.delimiter).find(Boolean);
  return first ? path.resolve(first) : path.join(os.homedir(), '.kube', 'config');
}

/**
 * Puts the cluster, user and context of `adminKubeconfig` into the user's kubeconfig under the
 * name "lotse" (replacing an older lotse entry), sets current-context to it, and leaves every
 * other entry, comment and key as it was. A backup is written next to the file first.
 */
export function mergeKubeconfig(adminKubeconfig: string, target: string, now: Date = new Date()): MergeResult {
  const entries = lotseEntries(adminKubeconfig);
  const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
  const doc = before && before.trim() ? YAML.parseDocument(before) : new YAML.Document({ apiVersion: 'v1', kind: 'Config', preferences: {} });
  if (doc.errors.length) throw new Error(`cannot merge into ${target}: it is not valid YAML (${doc.errors[0].message}); fix it or point KUBECONFIG elsewhere`);
  upsert(doc, 'clusters', { name: CONTEXT_NAME, cluster: entries.cluster });
  upsert(doc, 'users', { name: CONTEXT_NAME, user: entries.user });
  upsert(doc, 'contexts', { name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user: CONTEXT_NAME } });
  doc.set('current-context', CONTEXT_NAME);
  const after = doc.toString();
  if (after === before) return { path: target };
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  let backup: string | undefined;
  if (before !== undefined) {
    backup = backupPath(target, now);
    fs.writeFileSync(backup, before, { mode: 0o600 });
  }
  writePrivate(target, after);
  return { path: target, backup };
}

function backupPath(target: string, now: Date): string {
  return `${target}.lotse-backup-${now.toISOString().replace(/[:.]/g, '-')}`;
}

/** Write-then-rename: kubectl running meanwhile never reads half a file. */
function writePrivate(target: string, text: string): void {
  const tmp = `${target}.lotse-tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, target);
}

/**
 * Takes the lotse cluster, user and context out of the user's kubeconfig again (`lotse down
 * --purge`: the CA and token they hold are gone). current-context is cleared if it was lotse.
 * A backup is written first; other entries stay as they were.
 */
export function removeFromKubeconfig(target: string, now: Date = new Date()): MergeResult {
  if (!fs.existsSync(target)) return { path: target };
  const before = fs.readFileSync(target, 'utf8');
  const doc = YAML.parseDocument(before);
  if (doc.errors.length) return { path: target }; // not ours to repair
  for (const key of ['clusters', 'users', 'contexts']) {
    const seq = doc.get(key);
    if (isSeq(seq)) seq.items = seq.items.filter((item) => !(isMap(item) && item.get('name') === CONTEXT_NAME));
  }
  if (doc.get('current-context') === CONTEXT_NAME) doc.delete('current-context');
  const after = doc.toString();
  if (after === before) return { path: target };
  const backup = backupPath(target, now);
  fs.writeFileSync(backup, before, { mode: 0o600 });
  writePrivate(target, after);
  return { path: target, backup };
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

function upsert(doc: Document, key: string, entry: { name: string } & Record<string, unknown>): void {
  let seq = doc.get(key) as YAMLSeq | undefined;
  if (!isSeq(seq)) {
    doc.set(key, doc.createNode([]));
    seq = doc.get(key) as YAMLSeq;
  }
  const node = doc.createNode(entry);
  const index = seq.items.findIndex((item) => isMap(item) && item.get('name') === entry.name);
  if (index >= 0) seq.items[index] = node;
  else seq.items.push(node);
}
