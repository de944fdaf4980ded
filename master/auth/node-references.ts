import type { Pod } from 'kubernetes-types/core/v1';
import type { Store, StoreWatch } from '../store/store';
import { podReferences } from './pod-references';

export type ReferencedKind = 'secrets' | 'configMaps';

/**
 * Which Secrets and ConfigMaps the pods bound to each node refer to, kept from a watch on the
 * stored pods, so that authorizing a node's read is a map lookup rather than a scan of the
 * namespace's pods on every request (Kubernetes' node authorizer keeps a graph for the same
 * reason). It starts on the first question, so a master no node asks holds nothing.
 *
 * The watch covers every key, not only pods, so that the index knows which store revision it has
 * caught up to: before it says "no", it waits until it has seen every write made before the
 * question (a pod bound a moment ago must not be refused). Should it not catch up within
 * `catchUpMs`, it answers "cannot tell" and the caller asks the store itself. That also covers an
 * etcd shared with other key prefixes, whose writes move the revision without reaching this watch:
 * there a refusal waits catchUpMs and scans, while every allowed read is still a lookup.
 */
export class NodeReferences {
  /** Pod store key → the reference keys it contributes. */
  private readonly byPod = new Map<string, string[]>();
  /** Reference key → how many pods hold it. */
  private readonly holders = new Map<string, number>();
  private synced: Promise<void> | undefined;
  private watch: StoreWatch | undefined;
  /** The store revision the index reflects. */
  private revision = 0;
  private waiters: { target: number; resolve: () => void }[] = [];

  constructor(
    private readonly store: Store,
    /** The pods' key prefix in the store. */
    private readonly prefix: string,
    private readonly onWatchError: (err: Error) => void,
    private readonly catchUpMs = 500,
  ) {}

  /**
   * Whether a pod bound to `node` in `namespace` refers to the object, counting every write made
   * before the call; undefined when the index cannot tell (its watch broke or lags too far).
   */
  async has(node: string, namespace: string, kind: ReferencedKind, name: string): Promise<boolean | undefined> {
    const key = referenceKey(node, namespace, kind, name);
    try {
      await (this.synced ??= this.sync());
      if (this.holders.has(key)) return true;
      if (!(await this.caughtUp(await this.store.revision()))) return undefined;
    } catch (err) {
      this.synced = undefined; // the next question lists again
      this.onWatchError(err as Error);
      return undefined;
    }
    return this.holders.has(key);
  }

  stop(): void {
    this.watch?.stop();
    this.watch = undefined;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Resolves true once the index reflects `target`, false after catchUpMs or when its watch ends. */
  private caughtUp(target: number): Promise<boolean> {
    if (this.revision >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { target, resolve: () => (clearTimeout(timer), resolve(this.revision >= target)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, this.catchUpMs);
      this.waiters.push(waiter);
    });
  }

  /** One consistent list of every pod, then a watch from its revision. */
  private async sync(): Promise<void> {
    this.stop();
    this.byPod.clear();
    this.holders.clear();
    const page = await this.store.list(this.prefix);
    for (const sv of page.items) this.put(sv.key, sv.value as Pod);
    this.revision = page.revision;
    this.watch = this.store.watch('/', page.revision, {
      onEvent: (e) => {
        if (e.key.startsWith(this.prefix)) this.put(e.key, e.type === 'DELETED' ? undefined : (e.value as Pod));
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

  private put(podKey: string, pod: Pod | undefined): void {
    for (const key of this.byPod.get(podKey) ?? []) {
      const n = (this.holders.get(key) ?? 1) - 1;
      if (n > 0) this.holders.set(key, n);
      else this.holders.delete(key);
    }
    const keys = pod ? referenceKeys(pod) : [];
    if (keys.length === 0) this.byPod.delete(podKey);
    else this.byPod.set(podKey, keys);
    for (const key of keys) this.holders.set(key, (this.holders.get(key) ?? 0) + 1);
  }
}

function referenceKeys(pod: Pod): string[] {
  const node = pod.spec?.nodeName;
  const namespace = pod.metadata?.namespace;
  if (!node || !namespace) return [];
  const refs = podReferences(pod);
  return [
    ...[...refs.secrets].map((name) => referenceKey(node, namespace, 'secrets', name)),
    ...[...refs.configMaps].map((name) => referenceKey(node, namespace, 'configMaps', name)),
  ];
}

function referenceKey(node: string, namespace: string, kind: ReferencedKind, name: string): string {
  return `${node}\u0000${namespace}\u0000${kind}\u0000${name}`;
}
