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

/** The server, CA and bearer token of a kubeconfig's first cluster and user (lotse's admin kubeconfigs have one of each). */
export function readKubeconfigCredentials(file: string): AdminCredentials {
  const config = YAML.parse(fs.readFileSync(file, 'utf8')) as {
    clusters?: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users?: { user: { token: string } }[];
  };
  const cluster = config.clusters?.[0]?.cluster;
  const token = config.users?.[0]?.user?.token;
  if (!cluster || !token) throw new Error(`${file} has no cluster or bearer token: use an admin kubeconfig (the local cluster's is lotse up's, a bootstrapped cluster's is the one lotse bootstrap wrote)`);
  return { server: cluster.server, caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'), token };
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
