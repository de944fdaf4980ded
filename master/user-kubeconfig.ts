import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { issueCertificate } from '../cluster/certificates';
import { readClusterCa } from './data-dir';

export interface UserKubeconfigRequest {
  /** The certificate's CN: the user name RBAC bindings name. */
  user: string;
  /** The certificate's O entries: the user's groups. */
  groups: string[];
  /** How long the certificate holds; client certificates cannot be revoked, so keep it short. */
  validDays: number;
}

/** Longest user or group name accepted, as Kubernetes bounds names in RBAC subjects in practice. */
const MAX_NAME = 256;

/**
 * A kubeconfig for a user beyond the admin: a client certificate signed by the cluster CA of the
 * master data dir `dataDir`, for the server named in its admin kubeconfig. What the user may do is
 * then up to RBAC (bind a Role or ClusterRole to the user or one of the groups).
 */
export function userKubeconfig(dataDir: string, request: UserKubeconfigRequest): string {
  for (const name of [request.user, ...request.groups]) checkName(name);
  if (!Number.isInteger(request.validDays) || request.validDays < 1 || request.validDays > 3650) {
    throw new Error(`--valid-days ${request.validDays} is out of range: give a whole number of days from 1 to 3650`);
  }
  const ca = readClusterCa(dataDir);
  if (!ca) throw new Error(`no cluster CA in ${dataDir} (ca.crt and ca.key): run this on a master, or pass --data-dir with the master's data directory`);
  const admin = join(dataDir, 'admin.kubeconfig');
  if (!existsSync(admin)) throw new Error(`${admin} is missing: start the master once so it writes its kubeconfig`);
  const server = serverOf(readFileSync(admin, 'utf8'), admin);
  const cert = issueCertificate(ca, { commonName: request.user, organization: request.groups, clientAuth: true, validDays: request.validDays });
  const context = `${request.user}@lotse`;
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lotse', cluster: { server, 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64') } }],
    users: [{ name: request.user, user: { 'client-certificate-data': Buffer.from(cert.certPem).toString('base64'), 'client-key-data': Buffer.from(cert.keyPem).toString('base64') } }],
    contexts: [{ name: context, context: { cluster: 'lotse', user: request.user } }],
    'current-context': context,
    preferences: {},
  });
}

function checkName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name) {
    throw new Error(`"${name.slice(0, 40)}" is not a usable user or group name: give 1 to ${MAX_NAME} printable characters without leading or trailing spaces`);
  }
}

function serverOf(text: string, file: string): string {
  const doc = YAML.parse(text) as { clusters?: { cluster?: { server?: string } }[] } | null;
  const server = doc?.clusters?.[0]?.cluster?.server;
  if (!server) throw new Error(`${file} names no server`);
  return server;
}
