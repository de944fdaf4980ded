import { randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Bootstrap tokens as Kubernetes has them: `ID.SECRET` (6 and 16 characters of [a-z0-9]), kept
 * as a Secret `bootstrap-token-ID` of type bootstrap.kubernetes.io/token in kube-system, with an
 * expiration and usages. The ID is public (it names the Secret); only the secret part proves
 * possession. A token is honoured for joining while its Secret exists, is not expired and allows
 * `usage-bootstrap-authentication`.
 */
export const BOOTSTRAP_TOKEN_NAMESPACE = 'kube-system';
export const BOOTSTRAP_TOKEN_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_PREFIX = 'bootstrap-token-';
/** The group every bootstrap token's identity is in, as in Kubernetes. */
export const BOOTSTRAPPERS = 'system:bootstrappers';

const tokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface BootstrapToken {
  id: string;
  secret: string;
}

/** The ID and secret of a presented token, or undefined when it does not have the bootstrap form. */
export function parseBootstrapToken(token: string): BootstrapToken | undefined {
  const m = tokenPattern.exec(token);
  return m ? { id: m[1], secret: m[2] } : undefined;
}

export const formatBootstrapToken = (t: BootstrapToken): string => `${t.id}.${t.secret}`;

export const bootstrapTokenSecretName = (id: string): string => `${BOOTSTRAP_TOKEN_PREFIX}${id}`;

/** A fresh token: 22 characters from a 36-letter alphabet, ~82 bits in the secret part. */
export function newBootstrapToken(): BootstrapToken {
  const pick = (n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
  return { id: pick(6), secret: pick(16) };
}

/** What a bootstrap token Secret holds, decoded (Secrets keep base64 in `data`). */
export interface BootstrapTokenFields {
  id: string;
  secret: string;
  /** RFC 3339; absent means the token never expires. */
  expiration?: string;
  description?: string;
  usages: string[];
  extraGroups: string[];
}

export interface StoredSecret {
  type?: string;
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: string; creationTimestamp?: string };
  data?: Record<string, string>;
}

/** The token fields of a bootstrap token Secret, or undefined when the Secret is not one. */
export function bootstrapTokenFields(secret: StoredSecret): BootstrapTokenFields | undefined {
  if (secret.type !== BOOTSTRAP_TOKEN_TYPE) return undefined;
  const data = secret.data ?? {};
  const text = (k: string): string | undefined => (typeof data[k] === 'string' ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
  const id = text('token-id');
  const value = text('token-secret');
  if (!id || !value) return undefined;
  const usages = Object.keys(data)
    .filter((k) => k.startsWith('usage-bootstrap-') && text(k) === 'true')
    .map((k) => k.slice('usage-bootstrap-'.length));
  const groups = (text('auth-extra-groups') ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  return { id, secret: value, expiration: text('expiration'), description: text('description'), usages, extraGroups: groups };
}

/** Why a stored token does not authenticate the presented one, or undefined when it does. */
export function bootstrapTokenRefusal(presented: BootstrapToken, secret: StoredSecret | undefined, now = Date.now()): string | undefined {
  if (!secret) return 'no such token';
  if (secret.metadata?.deletionTimestamp) return 'the token is being deleted';
  const fields = bootstrapTokenFields(secret);
  if (!fields || fields.id !== presented.id) return 'the Secret is not a bootstrap token for this ID';
  const a = Buffer.from(fields.secret);
  const b = Buffer.from(presented.secret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'wrong secret';
  if (fields.expiration !== undefined) {
    const at = Date.parse(fields.expiration);
    if (Number.isNaN(at) || at <= now) return `expired at ${fields.expiration}`;
  }
  if (!fields.usages.includes('authentication')) return 'the token does not allow usage-bootstrap-authentication';
  return undefined;
}

/** The Secret for a new token, as `kubeadm token create` writes it. */
export function bootstrapTokenSecret(token: BootstrapToken, options: { ttlMs?: number; description?: string; now?: number }): Record<string, unknown> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const data: Record<string, string> = {
    'token-id': b64(token.id),
    'token-secret': b64(token.secret),
    'usage-bootstrap-authentication': b64('true'),
    'usage-bootstrap-signing': b64('true'),
  };
  if (options.ttlMs !== undefined && options.ttlMs > 0) data.expiration = b64(new Date((options.now ?? Date.now()) + options.ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (options.description) data.description = b64(options.description);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: BOOTSTRAP_TOKEN_TYPE,
    metadata: { name: bootstrapTokenSecretName(token.id), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    data,
  };
}
