import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import YAML from 'yaml';
import { KubeClient } from '../../kube/client';

/** Credentials from the master's admin.kubeconfig. */
export interface AdminCredentials {
  server: string;
  caPem: string;
  token: string;
}

export function readAdminCredentials(masterDataDir: string): AdminCredentials {
  const file = path.join(masterDataDir, 'admin.kubeconfig');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: the local master has never started (run lotse up)`);
  return readKubeconfigCredentials(file);
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  users?: { name: string; user: { token?: string } }[];
}

/**
 * The server, CA and bearer token a kubeconfig's current context uses (or `context`), as kubectl
 * picks them; a file without contexts (lotse's admin kubeconfigs have one of each) gives its first
 * cluster and user.
 */
export function readKubeconfigCredentials(file: string, context?: string): AdminCredentials {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: give the admin kubeconfig of the cluster (lotse up writes one, lotse bootstrap merges one into ~/.kube/config)`);
  const config = YAML.parse(fs.readFileSync(file, 'utf8')) as KubeconfigFile;
  const wanted = context ?? config['current-context'];
  const ctx = wanted ? config.contexts?.find((c) => c.name === wanted)?.context : undefined;
  if (wanted && context && !ctx) throw new Error(`${file} has no context "${context}" (it has: ${(config.contexts ?? []).map((c) => c.name).join(', ') || 'none'})`);
  const cluster = (ctx ? config.clusters?.find((c) => c.name === ctx.cluster) : config.clusters?.[0])?.cluster;
  const token = (ctx ? config.users?.find((u) => u.name === ctx.user) : config.users?.[0])?.user?.token;
  if (!cluster || !token) throw new Error(`${file} has no cluster or bearer token${wanted ? ` for context "${wanted}"` : ''}: use an admin kubeconfig (the local cluster's is lotse up's, a bootstrapped cluster's is the context lotse bootstrap wrote)`);
  const caPem = cluster['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') : cluster['certificate-authority'] ? fs.readFileSync(path.resolve(path.dirname(file), cluster['certificate-authority']), 'utf8') : undefined;
  if (!caPem) throw new Error(`${file}: the cluster has no certificate-authority(-data): lotse talks HTTPS with the cluster CA only`);
  return { server: cluster.server, caPem, token };
}

export function adminClient(masterDataDir: string, server: string): KubeClient {
  const creds = readAdminCredentials(masterDataDir);
  return new KubeClient({ server, ca: creds.caPem, token: creds.token, timeoutMs: 5000 });
}

/** Status code of GET url+path (a public health endpoint), or undefined when nothing answers. */
export function healthStatus(server: string, caPem: string, path: string, timeoutMs = 2000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = https.get(`${server}${path}`, { ca: caPem, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}
