import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Authenticator } from '../auth/authenticator';
import type { Identity } from '../auth/identity';
import { certificateForPublicKey, issueCertificateAsync, type KeyPair } from '../../cluster/certificates';
import { isPlainObject, parseBody, readBody } from './body';
import { errors, HttpError } from './status';

/**
 * A node whose Lease was renewed this recently is alive: a join for its name is refused (as long
 * as Kubernetes' node monitor grace period), so the join token cannot mint a credential that
 * impersonates a running node and reads its pods' Secrets.
 */
export const LIVE_NODE_MS = 40_000;

/** How long ago the node's Lease was renewed, or undefined when it has none. */
export type LeaseAge = (nodeName: string) => Promise<number | undefined>;

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What POST /lotse/v1/join answers; servingKey is empty when the node sent its own public key. */
export interface JoinResponse {
  token: string;
  /** When `token` stops working (RFC 3339); the agent renews it before (POST /lotse/v1/renew). */
  tokenExpiresAt: string;
  caCert: string;
  servingCert: string;
  servingKey: string;
}

/**
 * POST /lotse/v1/join, presented with the join token or a bootstrap token: gives the node a credential that acts only
 * for that node, and a serving certificate for its agent's HTTPS endpoint (CN system:node:NAME).
 */
export async function handleJoin(req: IncomingMessage, auth: Authenticator, ca: KeyPair, leaseAge: LeaseAge): Promise<JoinResponse> {
  const body = parseBody(await readBody(req), 'application/json');
  if (!isPlainObject(body)) throw errors.badRequest('the join request must be a JSON object {"nodeName": "...", "addresses": ["..."]}');
  const nodeName = body.nodeName;
  if (typeof nodeName !== 'string' || !dns1123Subdomain.test(nodeName) || nodeName.length > 253) {
    throw errors.badRequest(`nodeName ${JSON.stringify(nodeName)} is not a valid node name: use lower-case letters, digits, '-' and '.' (a DNS-1123 subdomain)`);
  }
  const addresses = Array.isArray(body.addresses) ? body.addresses.filter((a): a is string => typeof a === 'string') : [];
  for (const a of addresses) if (!isIP(a) && !dns1123Subdomain.test(a)) throw errors.badRequest(`address "${a}" is neither an IP address nor a DNS name`);
  const age = await leaseAge(nodeName);
  if (age !== undefined && age < LIVE_NODE_MS) {
    throw new HttpError(409, 'Conflict', `node "${nodeName}" is alive (its lease was renewed ${Math.round(age / 1000)} s ago): a join cannot take the name of a running node; join with another --node-name, or stop that node and wait ${Math.ceil((LIVE_NODE_MS - age) / 1000)} s (or kubectl delete node ${nodeName})`, { name: nodeName, kind: 'nodes' });
  }
  const publicKey = body.servingPublicKey;
  if (publicKey !== undefined && (typeof publicKey !== 'string' || publicKey.length > 8192)) throw errors.badRequest('servingPublicKey must be a PEM public key (at most 8 KiB)');
  const request = {
    commonName: `system:node:${nodeName}`,
    organization: ['system:nodes'],
    sans: [...new Set([nodeName, 'localhost', '127.0.0.1', ...addresses])],
    serverAuth: true,
  };
  let serving: { certPem: string; keyPem: string };
  try {
    // The node's own key when it sent one (as a kubelet sends a CSR): the master signs in milliseconds
    // and the private key never travels; else an EC key made here, as fast.
    serving = typeof publicKey === 'string' ? { certPem: certificateForPublicKey(ca, request, publicKey), keyPem: '' } : await issueCertificateAsync(ca, { ...request, keyType: 'ec' });
  } catch (err) {
    throw errors.badRequest(`servingPublicKey: ${(err as Error).message}`);
  }
  const credential = await auth.issueNodeToken(nodeName);
  return { token: credential.token, tokenExpiresAt: credential.expiresAt, caCert: ca.certPem, servingCert: serving.certPem, servingKey: serving.keyPem };
}

/**
 * POST /lotse/v1/renew, presented with a node's own credential: a fresh credential for the same
 * node with a new expiry. The old one holds until its own expiry, so requests in flight with it
 * still succeed while the agent switches.
 */
export async function handleRenew(who: Identity, auth: Authenticator): Promise<{ token: string; tokenExpiresAt: string }> {
  if (who.role !== 'node' || !who.nodeName) throw errors.forbidden(who.user, 'renew', 'node credentials', 'only a node renews its own credential');
  const credential = await auth.issueNodeToken(who.nodeName);
  return { token: credential.token, tokenExpiresAt: credential.expiresAt };
}
