import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Authenticator } from '../auth/authenticator';
import { issueCertificateAsync, type KeyPair } from '../../cluster/certificates';
import { isPlainObject, parseBody, readBody } from './body';
import { errors } from './status';

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface JoinResponse {
  token: string;
  caCert: string;
  servingCert: string;
  servingKey: string;
}

/**
 * POST /lotse/v1/join, presented with the join token: gives the node a credential that acts only
 * for that node, and a serving certificate for its agent's HTTPS endpoint (CN system:node:NAME).
 */
export async function handleJoin(req: IncomingMessage, auth: Authenticator, ca: KeyPair): Promise<JoinResponse> {
  const body = parseBody(await readBody(req), 'application/json');
  if (!isPlainObject(body)) throw errors.badRequest('the join request must be a JSON object {"nodeName": "...", "addresses": ["..."]}');
  const nodeName = body.nodeName;
  if (typeof nodeName !== 'string' || !dns1123Subdomain.test(nodeName) || nodeName.length > 253) {
    throw errors.badRequest(`nodeName ${JSON.stringify(nodeName)} is not a valid node name: use lower-case letters, digits, '-' and '.' (a DNS-1123 subdomain)`);
  }
  const addresses = Array.isArray(body.addresses) ? body.addresses.filter((a): a is string => typeof a === 'string') : [];
  for (const a of addresses) if (!isIP(a) && !dns1123Subdomain.test(a)) throw errors.badRequest(`address "${a}" is neither an IP address nor a DNS name`);
  const token = await auth.issueNodeToken(nodeName);
  const serving = await issueCertificateAsync(ca, {
    commonName: `system:node:${nodeName}`,
    organization: ['system:nodes'],
    sans: [...new Set([nodeName, 'localhost', '127.0.0.1', ...addresses])],
    serverAuth: true,
  });
  return { token, caCert: ca.certPem, servingCert: serving.certPem, servingKey: serving.keyPem };
}
