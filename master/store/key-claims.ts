import { StoreError, type Store } from './store';

/** One claimed name and who holds it. */
export interface KeyClaim {
  name: string;
  owner: string;
}

/**
 * Names handed out exactly once: a claim is a key created atomically in the store, so two
 * masters (or two workers) racing for one name cannot both get it. Used for pod CIDRs; the
 * ServiceAllocator does the same for ClusterIPs and NodePorts.
 */
export class KeyClaims {
  constructor(
    private readonly store: Store,
    /** e.g. `/lotse/allocations/podcidr/`; names must not contain `/`. */
    private readonly prefix: string,
  ) {}

  /** true when `owner` now holds `name` (also when it already did), false when another does. */
  async claim(name: string, owner: string): Promise<boolean> {
    try {
      await this.store.create(this.key(name), { owner });
      return true;
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'AlreadyExists')) throw err;
      return (await this.store.get(this.key(name)))?.value.owner === owner;
    }
  }

  /** Gives `name` up; a missing claim is already released. */
  async release(name: string): Promise<void> {
    try {
      await this.store.delete(this.key(name));
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'NotFound')) throw err;
    }
  }

  async list(): Promise<KeyClaim[]> {
    const claims: KeyClaim[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.store.list(this.prefix, { limit: 500, startAfter });
      for (const item of page.items) claims.push({ name: item.key.slice(this.prefix.length), owner: String(item.value.owner ?? '') });
      if (!page.more || page.items.length === 0) return claims;
      startAfter = page.items[page.items.length - 1].key;
    }
  }

  private key(name: string): string {
    if (name.includes('/') || name === '') throw new Error(`claim name "${name}" must be non-empty and contain no "/"`);
    return this.prefix + name;
  }
}
