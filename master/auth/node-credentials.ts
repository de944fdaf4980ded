import { createHash } from 'node:crypto';
import { newToken } from '../../cluster/tokens';
import { PrefixMirror } from '../store/prefix-mirror';
import { StoreError, type Store } from '../store/store';

/** Where node credentials live: only their SHA-256, so a store dump holds no usable token. */
export const NODE_TOKEN_PREFIX = '/lotse/node-tokens/';
const keyOf = (hash: string): string => `${NODE_TOKEN_PREFIX}${hash}`;

/** How long a node credential holds unless the master says otherwise (as a kubelet certificate: one year). */
export const DEFAULT_NODE_CREDENTIAL_TTL_MS = 365 * 24 * 3_600_000;

export interface IssuedNodeCredential {
  token: string;
  /** RFC 3339; the agent renews well before. */
  expiresAt: string;
}

interface Entry {
  nodeName: string;
  expiresAt: number;
}

export const tokenDigest = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * The credentials nodes act with: issued at join (and on renewal) with an expiry, and mirrored
 * from the store so that authenticating a node's request is a map lookup on every master. A
 * credential stops working when it expires or is revoked (its record deleted), on every master
 * as soon as the deletion reaches its watch.
 */
export class NodeCredentials extends PrefixMirror {
  private readonly byDigest = new Map<string, Entry>();

  constructor(
    store: Store,
    onWatchError: (err: Error) => void,
    readonly ttlMs = DEFAULT_NODE_CREDENTIAL_TTL_MS,
  ) {
    super(store, NODE_TOKEN_PREFIX, onWatchError);
  }

  async issue(nodeName: string, now = Date.now()): Promise<IssuedNodeCredential> {
    const token = newToken();
    const expiresAt = new Date(now + this.ttlMs).toISOString();
    try {
      await this.store.create(keyOf(tokenDigest(token)), { nodeName, issuedAt: new Date(now).toISOString(), expiresAt });
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'AlreadyExists')) throw err;
    }
    return { token, expiresAt };
  }

  /** The node a token (given by its SHA-256, hex) acts for, or undefined when it is unknown, revoked or expired. */
  async nodeOf(digest: string, now = Date.now()): Promise<string | undefined> {
    const known = await this.mirrored(digest);
    const entry = known === undefined ? await this.stored(digest) : known;
    return entry && entry.expiresAt > now ? entry.nodeName : undefined;
  }

  /** Deletes every credential of the node; returns how many there were. */
  async revoke(nodeName: string): Promise<number> {
    const { items } = await this.store.list(NODE_TOKEN_PREFIX);
    let revoked = 0;
    for (const sv of items) {
      if (sv.value.nodeName !== nodeName) continue;
      try {
        await this.store.delete(sv.key);
        revoked++;
      } catch (err) {
        if (!(err instanceof StoreError && err.code === 'NotFound')) throw err;
      }
    }
    return revoked;
  }

  protected clear(): void {
    this.byDigest.clear();
  }

  protected put(key: string, value: Record<string, unknown> | undefined): void {
    const digest = key.slice(NODE_TOKEN_PREFIX.length);
    const entry = value && entryOf(value, this.ttlMs);
    if (entry) this.byDigest.set(digest, entry);
    else this.byDigest.delete(digest);
  }

  /**
   * From the mirror: null when the mirror has seen every write made so far and holds no such
   * token, undefined when it cannot tell (its watch broke or lags: a token just issued elsewhere).
   */
  private async mirrored(digest: string): Promise<Entry | null | undefined> {
    try {
      await this.ready();
      const known = this.byDigest.get(digest);
      if (known) return known;
      return (await this.caughtUp()) ? null : undefined;
    } catch (err) {
      this.reportError(err as Error);
      return undefined;
    }
  }

  private async stored(digest: string): Promise<Entry | undefined> {
    const sv = await this.store.get(keyOf(digest));
    return sv && entryOf(sv.value, this.ttlMs);
  }
}

/** Records written before credentials expired carry no expiresAt: they hold one TTL from issue. */
function entryOf(value: Record<string, unknown>, ttlMs: number): Entry | undefined {
  if (typeof value.nodeName !== 'string') return undefined;
  const expires = typeof value.expiresAt === 'string' ? Date.parse(value.expiresAt) : Date.parse(String(value.issuedAt)) + ttlMs;
  return { nodeName: value.nodeName, expiresAt: Number.isNaN(expires) ? 0 : expires };
}
