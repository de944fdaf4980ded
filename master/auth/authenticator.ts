import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store';
import { StoreError } from '../store/store';
import { adminIdentity, joinIdentity, nodeIdentity, viewerIdentity, type Identity } from './identity';

export interface StaticTokens {
  admin: string;
  viewer: string;
  join: string;
}

const nodeTokenKey = (hash: string): string => `/lotse/node-tokens/${hash}`;

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function sameToken(a: string, b: string): boolean {
  // Compare digests so the time taken says nothing about how much of the token matched.
  return timingSafeEqual(sha256(a), sha256(b));
}

/**
 * Bearer-token authentication. Static tokens (admin, viewer, join) live in the data dir; node
 * tokens are issued at join time and kept in the store (only their SHA-256), so every master on
 * one etcd accepts them.
 */
export class Authenticator {
  private readonly nodeCache = new Map<string, string>();

  constructor(
    private readonly tokens: StaticTokens,
    private readonly store: Store,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Identity | undefined> {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const token = m[1];
    if (sameToken(token, this.tokens.admin)) return adminIdentity;
    if (sameToken(token, this.tokens.viewer)) return viewerIdentity;
    if (sameToken(token, this.tokens.join)) return joinIdentity;
    const hash = sha256(token).toString('hex');
    const cached = this.nodeCache.get(hash);
    if (cached) return nodeIdentity(cached);
    const stored = await this.store.get(nodeTokenKey(hash));
    const nodeName = stored?.value.nodeName;
    if (typeof nodeName !== 'string') return undefined;
    this.nodeCache.set(hash, nodeName);
    return nodeIdentity(nodeName);
  }

  /** Issues a fresh credential for a node; earlier tokens of that node stay valid until revoked. */
  async issueNodeToken(nodeName: string): Promise<string> {
    const token = newToken();
    const hash = sha256(token).toString('hex');
    try {
      await this.store.create(nodeTokenKey(hash), { nodeName, issuedAt: new Date().toISOString() });
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'AlreadyExists')) throw err;
    }
    return token;
  }
}
