import { PrefixMirror } from '../store/prefix-mirror';
import type { Store } from '../store/store';
import type { NodeCredentials } from './node-credentials';

/**
 * Revokes a node's credentials when its Node object is deleted (`kubectl delete node`), so a
 * machine removed from the cluster can no longer read the Secrets of pods it ran; to come back it
 * must join again with a valid bootstrap token. Every master runs one: the deletes are idempotent,
 * and whichever sees the Node go first revokes. After its watch breaks it lists again and revokes
 * for every Node that disappeared meanwhile.
 */
export class NodeCredentialRevoker extends PrefixMirror {
  private nodes = new Set<string>();
  private before: Set<string> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    store: Store,
    private readonly nodePrefix: string,
    private readonly credentials: NodeCredentials,
    private readonly log: { warn(fields: Record<string, unknown>, message: string): void; info(fields: Record<string, unknown>, message: string): void },
  ) {
    super(store, nodePrefix, (err) => this.rewatch(err));
  }

  start(): this {
    this.follow();
    return this;
  }

  override stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    super.stop();
  }

  protected clear(): void {
    this.before = this.nodes;
    this.nodes = new Set();
  }

  protected put(key: string, value: Record<string, unknown> | undefined): void {
    const name = key.slice(this.nodePrefix.length);
    if (value) {
      this.nodes.add(name);
      return;
    }
    if (this.nodes.delete(name)) this.revoke(name);
  }

  private follow(): void {
    this.ready().then(
      () => {
        // Nodes deleted while the watch was down.
        for (const name of this.before ?? []) if (!this.nodes.has(name)) this.revoke(name);
        this.before = undefined;
      },
      (err: Error) => this.rewatch(err),
    );
  }

  private rewatch(err: Error): void {
    if (this.stopped) return;
    this.log.warn({ err: err.message }, 'node watch for credential revocation ended; listing nodes again in 1 s');
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.follow(), 1000);
    this.retry.unref();
  }

  private revoke(name: string): void {
    this.credentials.revoke(name).then(
      (n) => n > 0 && this.log.info({ node: name, credentials: n }, 'node deleted: its credentials are revoked'),
      (err: Error) => this.log.warn({ node: name, err: err.message }, 'revoking the credentials of a deleted node failed'),
    );
  }
}
