import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { KubeClient } from '../../kube/client';
import { currentContext } from '../../kube/kubeconfig-file';

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

/**
 * The server, CA and bearer token of a kubeconfig's current context (or `context`), resolved as
 * kubectl does it (kube/kubeconfig-file.ts).
 */
export function readKubeconfigCredentials(file: string, context?: string): AdminCredentials {
  const ctx = currentContext({ KUBECONFIG: file }, context);
  if (!ctx.token) throw new Error(`${file}: user "${ctx.user}" of context "${ctx.name}" has no bearer token: use an admin kubeconfig (the local cluster's is lotse up's, a bootstrapped cluster's is the context lotse bootstrap wrote)`);
  if (!ctx.ca) throw new Error(`${file}: cluster "${ctx.cluster}" has no certificate-authority(-data): lotse talks HTTPS with the cluster CA only`);
  return { server: ctx.server, caPem: ctx.ca.toString('utf8'), token: ctx.token };
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
