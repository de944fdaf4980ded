import { generateKeyPair } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { URL } from 'node:url';
import { promisify } from 'node:util';
import { Backoff } from '../../kube/backoff';
import { parseServers } from '../../kube/client';
import { writeNodeKubeconfig } from './node-kubeconfig';

/** What the master hands a joining node (POST /lotse/v1/join). */
export interface NodeCredentials {
  token: string;
  /** When `token` stops working (RFC 3339); absent from masters that issued credentials without expiry. */
  tokenExpiresAt?: string;
  /** When this agent got `token`, so renewal can fall at a fraction of its lifetime. */
  obtainedAt?: string;
  caCert: string;
  servingCert: string;
  servingKey: string;
}

export interface JoinOptions {
  server: string;
  ca: string;
  joinToken: string;
  nodeName: string;
  addresses: string[];
  /** Where credentials are kept so a restarted agent keeps its identity; undefined keeps them in memory. */
  dataDir?: string;
  /** Join even when stored credentials exist (they were found revoked or expired). */
  fresh?: boolean;
  /**
   * Make the serving key here and send only its public half (default). Hollow nodes serve no TLS
   * and join by the thousand: they let the master make a (cheap EC) key instead.
   */
  ownServingKey?: boolean;
}

export const credentialsFile = (dataDir: string): string => path.join(dataDir, 'credentials.json');

/**
 * Keeps credentials for the next start, readable by root only (they act as the node), and the
 * token file and kubeconfig that flannel (--kube-subnet-mgr) uses to act as this node.
 */
export function saveCredentials(o: Pick<JoinOptions, 'dataDir' | 'server' | 'ca' | 'nodeName'>, creds: NodeCredentials): void {
  if (!o.dataDir) return;
  const file = credentialsFile(o.dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(creds), { mode: 0o600 });
  fs.renameSync(tmp, file);
  writeNodeKubeconfig({ dataDir: o.dataDir, server: o.server, caPem: o.ca, nodeName: o.nodeName, token: creds.token });
}

/**
 * Returns this node's credentials: the stored ones when the master still accepts them, else a
 * fresh join with the join token. Stored as DATA/credentials.json, readable by root only.
 */
export async function obtainCredentials(o: JoinOptions): Promise<NodeCredentials> {
  const file = o.dataDir ? credentialsFile(o.dataDir) : undefined;
  if (file && !o.fresh && fs.existsSync(file)) {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as NodeCredentials;
    const res = await request(o.server, o.ca, 'GET', `/api/v1/nodes/${encodeURIComponent(o.nodeName)}`, stored.token).catch(() => undefined);
    // Unreachable master: keep the stored identity and let the loops retry.
    if (!res || (res.status !== 401 && res.status !== 403)) {
      // Written again on every start: agents from before the kubeconfig existed get one too.
      writeNodeKubeconfig({ dataDir: o.dataDir as string, server: o.server, caPem: o.ca, nodeName: o.nodeName, token: stored.token });
      return stored;
    }
  }
  // The node's serving key is made here and only its public half is sent. RSA, because the ingress
  // router serves this certificate by default and OpenSSL keeps an ECDSA default certificate even
  // when SNI picks an Ingress's RSA one; the cost falls on the joining machine, not the master.
  const own = o.ownServingKey === false ? undefined : await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const servingPublicKey = own?.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const res = await request(o.server, o.ca, 'POST', '/lotse/v1/join', o.joinToken, { nodeName: o.nodeName, addresses: o.addresses, ...(servingPublicKey ? { servingPublicKey } : {}) });
  if (res.status !== 200 && res.status !== 201) {
    const hint = res.status === 401 || res.status === 403 ? " (check --token or --token-file: it must be a bootstrap token that has not expired, from lotse token create, or the cluster's join token, DATA/join-token on the master)" : '';
    throw new Error(`joining ${o.server} as node "${o.nodeName}" failed with HTTP ${res.status}: ${res.body.slice(0, 300)}${hint}`);
  }
  const answer = JSON.parse(res.body) as NodeCredentials;
  const creds = { ...answer, servingKey: answer.servingKey || (own?.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() ?? ''), obtainedAt: new Date().toISOString() };
  if (!creds.token || !creds.servingCert || !creds.servingKey) throw new Error(`the master's join answer lacks token or serving certificate: ${res.body.slice(0, 200)}`);
  saveCredentials(o, creds);
  return creds;
}

/** A fresh credential for the node `token` acts for (POST /lotse/v1/renew); throws with the master's answer. */
export async function renewCredential(server: string, ca: string, token: string): Promise<{ token: string; tokenExpiresAt: string }> {
  const res = await request(server, ca, 'POST', '/lotse/v1/renew', token, {});
  if (res.status !== 200 && res.status !== 201) throw new Error(`renewing the node credential at ${server} failed with HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  const renewed = JSON.parse(res.body) as { token?: string; tokenExpiresAt?: string };
  if (!renewed.token || !renewed.tokenExpiresAt) throw new Error(`the master's renewal answer lacks token or expiry: ${res.body.slice(0, 200)}`);
  return { token: renewed.token, tokenExpiresAt: renewed.tokenExpiresAt };
}

/**
 * One request to the first of the (comma-separated) masters that answers: a master that cannot be
 * reached passes the request to the next, as the agent's client does.
 */
async function request(server: string, ca: string, method: string, p: string, token: string, body?: unknown): Promise<{ status: number; body: string }> {
  const masters = parseServers(server);
  for (let i = 0; ; i++) {
    try {
      return await requestOne(masters[i].origin, ca, method, p, token, body);
    } catch (err) {
      if (i === masters.length - 1) throw err;
    }
  }
}

function requestOne(server: string, ca: string, method: string, p: string, token: string, body?: unknown): Promise<{ status: number; body: string }> {
  const url = new URL(p, server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { method, host: url.hostname, port: url.port || 443, path: url.pathname, ca, timeout: 15_000, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href}: no answer within 15 s`)));
    req.on('error', (err) => reject(new Error(`${method} ${url.href}: ${err.message}`)));
    req.end(payload);
  });
}

/**
 * obtainCredentials, retried with back-off (1 s doubling to 30 s, each wait drawn from [d, 2d) so
 * that a stack's agents, booted together, do not knock together) while the master cannot be
 * reached or is overloaded: an agent that boots before its master must simply wait for it.
 * A refusal (the master answered, and said no) is not retried.
 */
export async function obtainCredentialsWithRetry(o: JoinOptions, log: (m: string) => void = () => undefined, attempts = Infinity): Promise<NodeCredentials> {
  const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
  for (let i = 1; ; i++) {
    try {
      return await obtainCredentials(o);
    } catch (err) {
      // 409: the name belongs to a node that still renews its lease (often this machine's previous
      // agent, just stopped): that ends within the grace period, so it is worth waiting for.
      const refused = /failed with HTTP 4\d\d/.test((err as Error).message) && !/failed with HTTP 409/.test((err as Error).message);
      if (refused || i >= attempts) throw err;
      const wait = backoff.next();
      log(`${(err as Error).message}; retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
