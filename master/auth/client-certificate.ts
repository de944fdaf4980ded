import type { TLSSocket } from 'node:tls';
import { identityOf, type Identity } from './identity';

/** id-kp-clientAuth: a certificate must be issued for client authentication to sign anyone in. */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * The user a verified client certificate stands for, as Kubernetes' x509 authenticator reads it:
 * the subject's CN is the user name and each O a group. The TLS layer has already checked the
 * chain to the cluster CA and the validity dates (`authorized`); a certificate that failed, or was
 * not issued for client authentication, signs nobody in (the request may still carry a token).
 */
export function clientCertificateIdentity(socket: TLSSocket): Identity | undefined {
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return undefined;
  if (!(cert.ext_key_usage ?? []).includes(CLIENT_AUTH)) return undefined;
  const user = first(cert.subject.CN);
  if (!user) return undefined;
  const groups = list(cert.subject.O);
  return identityOf(user, groups);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
