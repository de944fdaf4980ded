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

/**
 * Bearer-token authentication. Static tokens (admin, viewer, join) live in the data dir; node
 * tokens are issued at join time and kept in the store (only their SHA-256), so every master on
 * one etcd accepts them.
 */
export class Authenticator {
  private readonly nodeCache = new Map<string, string>();
  /**
   * The static tokens' digests, made once. Digests are what gets compared, so the time taken says
   * nothing about how much of a token matched; the presented token is hashed once per request.
   */
  private readonly staticDigests: [Buffer, Identity][];

  constructor(
    tokens: StaticTokens,
    private readonly store: Store,
  ) {
    this.staticDigests = [[sha256(tokens.admin), adminIdentity], [sha256(tokens.viewer), viewerIdentity], [sha256(tokens.join), joinIdentity]];
  }

  async authenticate(authorization: string | undefined): Promise<Identity | undefined> {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const digest = sha256(m[1]);
    for (const [known, identity] of this.staticDigests) if (timingSafeEqual(digest, known)) return identity;
    const hash = digest.toString('hex');
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
