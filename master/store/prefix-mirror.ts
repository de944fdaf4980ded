import type { Store, StoreWatch } from './store';

/** The object stored at a key (not the store's StoredValue, which wraps it with revisions). */
type StoredObject = Record<string, unknown>;

/**
 * An in-memory copy of the objects under one store prefix, from one list and a watch, for
 * answering questions (may this node read that Secret? what does RBAC grant this user?) as a
 * lookup instead of a store read per request. It lists on first use, so a master nobody asks
 * holds nothing, and lists again on the next use after its watch ended.
 *
 * The watch covers every key, not only the prefix, so the mirror knows which store revision it
 * has reached: before a subclass says "no", `caughtUp` waits until every write made before the
 * question has been seen (a grant or a binding must count as soon as its write returns). Should
 * the mirror not catch up within `catchUpMs` — its watch broke, or an etcd shared with other key
 * prefixes moved the revision without reaching this watch — it answers false and the subclass
 * decides what a "cannot tell" means for it.
 */
export abstract class PrefixMirror {
  private synced: Promise<void> | undefined;
  private watch: StoreWatch | undefined;
  /** The store revision the mirror reflects. */
  private revision = 0;
  private waiters: { target: number; resolve: () => void }[] = [];

  constructor(
    protected readonly store: Store,
    private readonly prefix: string,
    private readonly onWatchError: (err: Error) => void,
    private readonly catchUpMs = 500,
  ) {}

  stop(): void {
    this.watch?.stop();
    this.watch = undefined;
    this.synced = undefined;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Forgets everything the mirror holds, before a new list. */
  protected abstract clear(): void;

  /** Records the object at a key under the prefix, or its removal (undefined), as of the write at revision. */
  protected abstract put(key: string, value: StoredObject | undefined, revision: number): void;

  /** Resolves once the mirror holds a consistent list; rejects (and lists again next time) when listing fails. */
  protected ready(): Promise<void> {
    this.synced ??= this.load().catch((err: Error) => {
      this.synced = undefined;
      throw err;
    });
    return this.synced;
  }

  /** True once every write made before the call is reflected, false after catchUpMs or when the watch ends. */
  protected async caughtUp(): Promise<boolean> {
    const target = await this.store.revision();
    // On SQLite every write up to target is already queued for this watch: take it now rather than a turn later.
    if (this.revision < target) this.takeQueued();
    if (this.revision >= target) return true;
    return new Promise((resolve) => {
      const waiter = { target, resolve: () => (clearTimeout(timer), resolve(this.revision >= target)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, this.catchUpMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * True while the mirror holds a list and its watch runs; otherwise starts loading it (without
   * waiting) and answers false, for callers that use the mirror only when it is there at once.
   */
  protected live(): boolean {
    if (this.watch) return true;
    this.ready().catch(() => undefined); // reported through onWatchError when the watch breaks; a failed list is tried again on the next use
    return false;
  }

  /**
   * Takes, without waiting, what the store already queued for the mirror's watch: on SQLite every
   * acknowledged write, so a copy read next is as current as the store's.
   */
  protected takeQueued(): void {
    this.watch?.catchUp();
  }

  /** The store revision the mirror reflects now. */
  protected reached(): number {
    return this.revision;
  }

  /** Reports an error met while answering, the same way as a broken watch. */
  protected reportError(err: Error): void {
    this.onWatchError(err);
  }

  private async load(): Promise<void> {
    this.watch?.stop();
    this.clear();
    const page = await this.store.list(this.prefix);
    for (const sv of page.items) this.put(sv.key, sv.value, sv.modRevision);
    this.revision = page.revision;
    this.watch = this.store.watch('/', page.revision, {
      onEvent: (e) => {
        if (e.key.startsWith(this.prefix)) this.put(e.key, e.type === 'DELETED' ? undefined : e.value, e.revision);
        this.advance(e.revision);
      },
      onError: (err) => {
        this.watch = undefined;
        this.synced = undefined;
        for (const w of this.waiters.splice(0)) w.resolve();
        this.onWatchError(err);
      },
    });
  }

  private advance(revision: number): void {
    this.revision = revision;
    if (!this.waiters.some((w) => w.target <= revision)) return;
    const due = this.waiters.filter((w) => w.target <= revision);
    this.waiters = this.waiters.filter((w) => w.target > revision);
    for (const w of due) w.resolve();
  }
}
