import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import YAML from 'yaml';

export interface KubeconfigEntry {
  name: string;
  server: string;
  caPem: string;
  token: string;
}

interface Named {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  'current-context'?: string;
  [key: string]: unknown;
}

/** The file kubectl writes to: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function userKubeconfigPath(): string {
  const env = process.env.KUBECONFIG?.split(delimiter).find(Boolean);
  return env ?? join(homedir(), '.kube', 'config');
}

function upsert(list: Named[] | undefined, item: Named): Named[] {
  const rest = (list ?? []).filter((x) => x.name !== item.name);
  return [...rest, item];
}

/**
 * Adds or updates the cluster, user `NAME-admin` and context `NAME`, and makes it current. The
 * previous file is kept as FILE.bak-TIMESTAMP whenever something changes; returns undefined when
 * the file already said all this (no change), else the backup's path ('' for a new file).
 */
export function mergeKubeconfig(path: string, entry: KubeconfigEntry): string | undefined {
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  let doc: KubeconfigDoc;
  try {
    doc = (before.trim() ? YAML.parse(before) : {}) as KubeconfigDoc;
  } catch (err) {
    throw new Error(`cannot merge into ${path}: it is not valid YAML (${(err as Error).message}); fix or move it and run again`);
  }
  const user = `${entry.name}-admin`;
  doc.apiVersion ??= 'v1';
  doc.kind ??= 'Config';
  doc.clusters = upsert(doc.clusters, { name: entry.name, cluster: { server: entry.server, 'certificate-authority-data': Buffer.from(entry.caPem).toString('base64') } });
  doc.users = upsert(doc.users, { name: user, user: { token: entry.token } });
  doc.contexts = upsert(doc.contexts, { name: entry.name, context: { cluster: entry.name, user } });
  doc['current-context'] = entry.name;
  const after = YAML.stringify(doc);
  if (before.trim() && YAML.stringify(YAML.parse(before)) === after) return undefined;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let backup = '';
  if (before) {
    backup = `${path}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    copyFileSync(path, backup);
  }
  writeFileSync(path, after, { mode: 0o600 });
  // It holds an admin token: tighten a file that existed with looser modes.
  chmodSync(path, 0o600);
  return backup;
}
