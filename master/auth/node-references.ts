import type { Pod } from 'kubernetes-types/core/v1';
import { PrefixMirror } from '../store/prefix-mirror';
import type { Store } from '../store/store';
import { podReferences } from './pod-references';

export type ReferencedKind = 'secrets' | 'configMaps';

/**
 * Which Secrets and ConfigMaps the pods bound to each node refer to, mirrored from the stored pods,
 * so that authorizing a node's read is a map lookup rather than a scan of the namespace's pods on
 * every request (Kubernetes' node authorizer keeps a graph for the same reason). A "no" waits until
 * the mirror has seen every write made before the question (a pod bound a moment ago must not be
 * refused); when it cannot catch up, the answer is "cannot tell", which the API server turns into
 * a 429 the node retries, so every answer stays a lookup and a lagging index never costs a scan.
 */
export class NodeReferences extends PrefixMirror {
  /** Pod store key → the reference keys it contributes. */
  private readonly byPod = new Map<string, string[]>();
  /** Reference key → how many pods hold it. */
  private readonly holders = new Map<string, number>();

  constructor(store: Store, podPrefix: string, onWatchError: (err: Error) => void, catchUpMs = 500) {
    super(store, podPrefix, onWatchError, catchUpMs);
  }

  /**
   * Whether a pod bound to `node` in `namespace` refers to the object, counting every write made
   * before the call; undefined when the index cannot tell (its watch broke or lags too far).
   */
  async has(node: string, namespace: string, kind: ReferencedKind, name: string): Promise<boolean | undefined> {
    const key = referenceKey(node, namespace, kind, name);
    try {
      await this.ready();
      if (this.holders.has(key)) return true;
      if (!(await this.caughtUp())) return undefined;
    } catch (err) {
      this.reportError(err as Error);
      return undefined;
    }
    return this.holders.has(key);
  }

  protected clear(): void {
    this.byPod.clear();
    this.holders.clear();
  }

  protected put(podKey: string, value: Record<string, unknown> | undefined): void {
    for (const key of this.byPod.get(podKey) ?? []) {
      const n = (this.holders.get(key) ?? 1) - 1;
      if (n > 0) this.holders.set(key, n);
      else this.holders.delete(key);
    }
    const keys = value ? referenceKeys(value as Pod) : [];
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
