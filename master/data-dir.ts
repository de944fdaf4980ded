import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { newToken, type StaticTokens } from '../cluster/tokens';
import { certificateSans, createCa, issueCertificate, type KeyPair } from '../cluster/certificates';

export interface MasterState {
  ca: KeyPair;
  serving: KeyPair;
  /** Client certificate the master shows to agents for logs and exec. */
  agentClient: KeyPair;
  tokens: StaticTokens;
}

function readPair(dir: string, name: string): KeyPair | undefined {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

/** The cluster CA kept in a master's data dir, or undefined where there is none. */
export function readClusterCa(dataDir: string): KeyPair | undefined {
  return readPair(dataDir, 'ca');
}

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function writePair(dir: string, name: string, pair: KeyPair): void {
  writeFileSync(join(dir, `${name}.crt`), pair.certPem, { mode: 0o644 });
  writeSecret(join(dir, `${name}.key`), pair.keyPem);
}

/**
 * Creates on first start, and reuses after, what a master keeps in its data dir: the cluster CA,
 * the serving certificate (re-issued when the wanted names change), the agent client certificate
 * and the tokens, plus admin.kubeconfig and join-token for people and agents.
 */
export function loadOrCreateState(dataDir: string, sans: string[]): MasterState {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  let ca = readPair(dataDir, 'ca');
  if (!ca) {
    ca = createCa('lotse-ca');
    writePair(dataDir, 'ca', ca);
  }
  let serving = readPair(dataDir, 'apiserver');
  const have = new Set(serving ? certificateSans(serving.certPem) : []);
  if (!serving || sans.some((s) => !have.has(s))) {
    serving = issueCertificate(ca, { commonName: 'lotse-apiserver', sans, serverAuth: true });
    writePair(dataDir, 'apiserver', serving);
  }
  let agentClient = readPair(dataDir, 'agent-client');
  if (!agentClient) {
    agentClient = issueCertificate(ca, { commonName: 'lotse:master', organization: ['lotse:masters'], clientAuth: true });
    writePair(dataDir, 'agent-client', agentClient);
  }
  const tokensPath = join(dataDir, 'tokens.json');
  let tokens: StaticTokens;
  if (existsSync(tokensPath)) {
    tokens = JSON.parse(readFileSync(tokensPath, 'utf8')) as StaticTokens;
  } else {
    tokens = { admin: newToken(), viewer: newToken(), join: newToken() };
    writeSecret(tokensPath, JSON.stringify(tokens, null, 2) + '\n');
  }
  return { ca, serving, agentClient, tokens };
}

/** What people and agents pick up from the data dir once the server's URL is known. */
export function writeClientFiles(dataDir: string, serverUrl: string, state: MasterState): void {
  writeSecret(join(dataDir, 'join-token'), state.tokens.join + '\n');
  writeSecret(join(dataDir, 'admin.kubeconfig'), kubeconfig('lotse', serverUrl, state.ca.certPem, 'admin', state.tokens.admin));
  writeSecret(join(dataDir, 'viewer.kubeconfig'), kubeconfig('lotse', serverUrl, state.ca.certPem, 'viewer', state.tokens.viewer));
}

export function kubeconfig(cluster: string, server: string, caPem: string, user: string, token: string): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: `${cluster}-${user}`, user: { token } }],
    contexts: [{ name: cluster, context: { cluster, user: `${cluster}-${user}` } }],
    'current-context': cluster,
    preferences: {},
  });
}
