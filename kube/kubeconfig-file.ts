import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML, { isMap, isSeq, type Document, type YAMLSeq } from 'yaml';

export interface KubeconfigEntry {
  /** Name of the context and the cluster entry. */
  name: string;
  /** Name of the user entry (default: name). */
  userName?: string;
  cluster: Record<string, unknown>;
  user: Record<string, unknown>;
  /**
   * More contexts with the same user, each with a cluster entry of its own name (the cluster
   * settings with these keys replaced): one per master of a cluster without a load balancer.
   * They are written beside the main context, which stays the current one.
   */
  alternates?: { name: string; cluster: Record<string, unknown> }[];
}

export interface KubeconfigChange {
  path: string;
  changed: boolean;
  /** The copy written before the change; undefined when the file did not exist or was unchanged. */
  backup?: string;
}

/** The file kubectl would write: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function userKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(path.delimiter).find(Boolean);
  return first ? path.resolve(first) : path.join(env.HOME || os.homedir(), '.kube', 'config');
}

/**
 * Puts one cluster, user and context into a kubeconfig (replacing entries of the same names),
 * makes the context current, and leaves every other entry, comment and key as it was. The file
 * is written 0600 (it holds a token) after a backup of the old one.
 */
export function mergeKubeconfigEntry(target: string, entry: KubeconfigEntry, now: Date = new Date()): KubeconfigChange {
  const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
  const doc = before && before.trim() ? YAML.parseDocument(before) : new YAML.Document({ apiVersion: 'v1', kind: 'Config', preferences: {} });
  if (doc.errors.length) throw new Error(`cannot merge into ${target}: it is not valid YAML (${doc.errors[0].message}); fix it or point KUBECONFIG elsewhere`);
  const userName = entry.userName ?? entry.name;
  upsert(doc, 'clusters', { name: entry.name, cluster: entry.cluster });
  upsert(doc, 'users', { name: userName, user: entry.user });
  upsert(doc, 'contexts', { name: entry.name, context: { cluster: entry.name, user: userName } });
  for (const alt of entry.alternates ?? []) {
    upsert(doc, 'clusters', { name: alt.name, cluster: { ...entry.cluster, ...alt.cluster } });
    upsert(doc, 'contexts', { name: alt.name, context: { cluster: alt.name, user: userName } });
  }
  doc.set('current-context', entry.name);
  return replace(target, before, doc.toString(), now);
}

/** Takes a cluster, user and context out again; current-context is cleared if it was that one. */
export function removeKubeconfigEntry(target: string, names: { name: string; userName?: string }, now: Date = new Date()): KubeconfigChange {
  if (!fs.existsSync(target)) return { path: target, changed: false };
  const before = fs.readFileSync(target, 'utf8');
  const doc = YAML.parseDocument(before);
  if (doc.errors.length) return { path: target, changed: false }; // not ours to repair
  const owned: Record<string, string> = { clusters: names.name, users: names.userName ?? names.name, contexts: names.name };
  for (const [key, name] of Object.entries(owned)) {
    const seq = doc.get(key);
    if (isSeq(seq)) seq.items = seq.items.filter((item) => !(isMap(item) && item.get('name') === name));
  }
  if (doc.get('current-context') === names.name) doc.delete('current-context');
  return replace(target, before, doc.toString(), now);
}

function replace(target: string, before: string | undefined, after: string, now: Date): KubeconfigChange {
  if (after === before) return { path: target, changed: false };
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  let backup: string | undefined;
  if (before !== undefined) {
    backup = `${target}.lotse-backup-${now.toISOString().replace(/[:.]/g, '-')}`;
    fs.writeFileSync(backup, before, { mode: 0o600 });
  }
  // Write-then-rename: kubectl running meanwhile never reads half a file.
  const tmp = `${target}.lotse-tmp`;
  fs.writeFileSync(tmp, after, { mode: 0o600 });
  fs.renameSync(tmp, target);
  return { path: target, changed: true, backup };
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

interface KubeconfigShape {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string; namespace?: string } }[];
  clusters?: { name: string; cluster?: { server?: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  users?: { name: string; user?: { token?: string; tokenFile?: string } }[];
}

export interface CurrentContext {
  name: string;
  cluster: string;
  user: string;
  server: string;
  namespace?: string;
  /** PEM of the cluster CA, from -data or the file it names. */
  ca?: Buffer;
  token?: string;
}

/**
 * The current context as kubectl resolves it (or the one `--context` names): the files of
 * $KUBECONFIG in order (each entry taken from the first file that defines it), else
 * ~/.kube/config. Errors name the file and the fix.
 */
export function currentContext(env: NodeJS.ProcessEnv = process.env, wanted?: string): CurrentContext {
  const files = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  if (files.length === 0) files.push(path.join(env.HOME || os.homedir(), '.kube', 'config'));
  const configs = files.filter((f) => fs.existsSync(f)).map((file) => ({ file, config: parseKubeconfig(file) }));
  if (configs.length === 0) throw new Error(`no kubeconfig at ${files.join(', ')}: run lotse up or lotse kubeconfig, or set KUBECONFIG`);
  const name = wanted ?? configs.map((c) => c.config['current-context']).find(Boolean);
  if (!name) throw new Error(`${files.join(', ')} sets no current-context: pick one with kubectl config use-context NAME`);
  const find = <T extends { name: string }>(pick: (c: KubeconfigShape) => T[] | undefined, wanted?: string): { item?: T; file: string } => {
    for (const c of configs) {
      const item = pick(c.config)?.find((x) => x.name === wanted);
      if (item) return { item, file: c.file };
    }
    return { file: configs[0].file };
  };
  const context = find((c) => c.contexts, name).item?.context;
  if (!context && wanted) throw new Error(`${files.join(', ')} has no context "${wanted}" (it has: ${configs.flatMap((c) => (c.config.contexts ?? []).map((x) => x.name)).join(', ') || 'none'})`);
  if (!context) throw new Error(`context "${name}" is not defined in ${files.join(', ')}: fix current-context with kubectl config use-context`);
  const { item: cluster, file: clusterFile } = find((c) => c.clusters, context.cluster);
  const user = find((c) => c.users, context.user).item?.user;
  if (!cluster?.cluster?.server) throw new Error(`cluster "${context.cluster}" of context "${name}" has no server in the kubeconfig`);
  const caData = cluster.cluster['certificate-authority-data'];
  const caFile = cluster.cluster['certificate-authority'];
  return {
    name,
    cluster: String(context.cluster),
    user: String(context.user),
    server: cluster.cluster.server,
    namespace: context.namespace,
    ca: caData ? Buffer.from(caData, 'base64') : caFile ? fs.readFileSync(path.resolve(path.dirname(clusterFile), caFile)) : undefined,
    token: user?.token ?? (user?.tokenFile ? fs.readFileSync(user.tokenFile, 'utf8').trim() : undefined),
  };
}

function parseKubeconfig(file: string): KubeconfigShape {
  try {
    return (YAML.parse(fs.readFileSync(file, 'utf8')) ?? {}) as KubeconfigShape;
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
}
