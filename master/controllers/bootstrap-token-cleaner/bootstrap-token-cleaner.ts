import type { Secret } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { core } from '../../../kube/resource-path';
import { BOOTSTRAP_TOKEN_NAMESPACE, bootstrapTokenFields, type StoredSecret } from '../../../cluster/bootstrap-token';
import type { ControllerContext } from '../controller-context';
import { deleteObject } from '../delete-object';
import { PeriodicController } from '../periodic-controller';

/**
 * Deletes bootstrap tokens once they expire, as Kubernetes' token cleaner does: an expired token
 * already cannot authenticate, and removing its Secret keeps `lotse token list` to the live ones.
 */
export class BootstrapTokenCleaner extends PeriodicController {
  readonly name = 'bootstrap-token-cleaner';

  constructor(ctx: ControllerContext, options: { intervalMs?: number } = {}) {
    super(ctx, { periodMs: options.intervalMs ?? 15_000, failure: 'bootstrap token cleanup failed' });
  }

  protected async tick(): Promise<void> {
    await this.sweep();
  }

  /** One pass; returns the IDs of the tokens deleted. */
  async sweep(now = Date.now()): Promise<string[]> {
    const { items } = await this.ctx.client.list<Secret>(core('secrets', BOOTSTRAP_TOKEN_NAMESPACE), { fieldSelector: 'type=bootstrap.kubernetes.io/token' });
    const deleted: string[] = [];
    for (const secret of items) {
      const fields = bootstrapTokenFields(secret as StoredSecret);
      const expires = Date.parse(fields?.expiration ?? '');
      if (!fields || Number.isNaN(expires) || expires > now) continue;
      try {
        await deleteObject(this.ctx.client, core('secrets', BOOTSTRAP_TOKEN_NAMESPACE, secret.metadata?.name));
        deleted.push(fields.id);
      } catch (err) {
        if (!ApiError.isNotFound(err)) throw err;
      }
    }
    return deleted;
  }
}
