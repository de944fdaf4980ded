import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/store';
import { StoreError } from '../store/store';

/** Issuer and default audience of the tokens, as a default Kubernetes cluster names them. */
export const TOKEN_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCE = TOKEN_ISSUER;

/** What a bound token says about its holder, under the `kubernetes.io` claim. */
export interface BoundClaims {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
  /** Seconds since the epoch after which a holder should have replaced the token. */
  warnafter?: number;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': BoundClaims;
}

/** Where a master publishes the public half of its signing key, so every master accepts its tokens. */
const publicKeyKey = (kid: string): string => `/lotse/service-account-keys/${kid}`;

const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Signs and verifies ServiceAccount tokens (JWT, ES256). Each master keeps its own P-256 key in
 * its data dir and publishes only the public key in the store: masters sharing a store accept
 * each other's tokens without ever holding each other's private key. The few lines of JWS are
 * written here on node:crypto; the JOSE libraries at hand are ESM-only, which the CommonJS
 * build and Node 20 cannot load.
 */
export class ServiceAccountTokens {
  private readonly keys = new Map<string, KeyObject>();

  private constructor(
    private readonly store: Store,
    private readonly privateKey: KeyObject,
    readonly kid: string,
  ) {
    this.keys.set(kid, createPublicKey(privateKey));
  }

  /** Loads (or makes, mode 0600) DATA_DIR/service-account.key and publishes its public key. */
  static async open(dataDir: string, store: Store): Promise<ServiceAccountTokens> {
    const path = join(dataDir, 'service-account.key');
    if (!existsSync(path)) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      chmodSync(path, 0o600);
    }
    const privateKey = createPrivateKey(readFileSync(path, 'utf8'));
    const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const kid = createHash('sha256').update(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })).digest('base64url');
    try {
      await store.create(publicKeyKey(kid), { publicKeyPem: publicPem, createdAt: new Date().toISOString() });
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'AlreadyExists')) throw err;
    }
    return new ServiceAccountTokens(store, privateKey, kid);
  }

  sign(claims: Omit<TokenClaims, 'iss' | 'iat' | 'nbf' | 'jti'>): string {
    const now = Math.floor(Date.now() / 1000);
    const full: TokenClaims = { ...claims, iss: TOKEN_ISSUER, iat: now, nbf: now, jti: randomUUID() };
    const header = b64json({ alg: 'ES256', kid: this.kid, typ: 'JWT' });
    const payload = b64json(full);
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${header}.${payload}.${signature.toString('base64url')}`;
  }

  /**
   * The claims of a token this cluster signed, still valid in time and meant for `audiences`
   * (any of them); undefined otherwise. Whether the ServiceAccount and pod still exist is for
   * the caller, who can read them.
   */
  async verify(token: string, audiences: string[] = [API_AUDIENCE]): Promise<TokenClaims | undefined> {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const header = parseJson(parts[0]) as { alg?: unknown; kid?: unknown } | undefined;
    if (header?.alg !== 'ES256' || typeof header.kid !== 'string') return undefined;
    const key = await this.publicKey(header.kid);
    if (!key) return undefined;
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
    if (!ok) return undefined;
    const claims = parseJson(parts[1]) as TokenClaims | undefined;
    if (!claims || claims.iss !== TOKEN_ISSUER || !claims['kubernetes.io']?.serviceaccount) return undefined;
    const now = Math.floor(Date.now() / 1000);
    // A minute of clock skew between masters, as Kubernetes allows.
    if (typeof claims.exp !== 'number' || claims.exp + 60 < now) return undefined;
    if (typeof claims.nbf === 'number' && claims.nbf - 60 > now) return undefined;
    if (!Array.isArray(claims.aud) || !claims.aud.some((a) => audiences.includes(a))) return undefined;
    return claims;
  }

  private async publicKey(kid: string): Promise<KeyObject | undefined> {
    const known = this.keys.get(kid);
    if (known) return known;
    if (!/^[A-Za-z0-9_-]{43}$/.test(kid)) return undefined;
    const stored = await this.store.get(publicKeyKey(kid));
    const pem = stored?.value.publicKeyPem;
    if (typeof pem !== 'string') return undefined;
    const key = createPublicKey(pem);
    this.keys.set(kid, key);
    return key;
  }
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function parseJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
