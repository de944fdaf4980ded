import type { Event } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { core } from '../../../kube/resource-path';
import type { ControllerContext } from '../controller-context';
import { PeriodicController } from '../periodic-controller';
import { deleteObject } from '../delete-object';

/** When an event was last seen: lastTimestamp, else eventTime, else its creation. */
export function eventLastSeen(e: Event): number {
  return Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '') || 0;
}

/**
 * Removes events not seen for `ttlMs` (default 1 h, as kube-apiserver's --event-ttl), so a
 * long-running cluster does not keep every event it ever recorded.
 */
export class EventTtlCleaner extends PeriodicController {
  readonly name = 'event-ttl-cleaner';

  constructor(
    ctx: ControllerContext,
    private readonly options: { ttlMs?: number; intervalMs?: number } = {},
  ) {
    super(ctx, { periodMs: options.intervalMs ?? 60_000, failure: 'event cleanup failed' });
  }

  protected async tick(): Promise<void> {
    await this.sweep();
  }

  /** One pass over all events; returns how many were deleted. */
  async sweep(now = Date.now()): Promise<number> {
    const ttl = this.options.ttlMs ?? 3_600_000;
    let deleted = 0;
    let cont: string | undefined;
    do {
      const page = await this.ctx.client.list<Event>(core('events'), { limit: 500, continue: cont });
      for (const e of page.items) {
        if (now - eventLastSeen(e) <= ttl) continue;
        try {
          await deleteObject(this.ctx.client, core('events', e.metadata?.namespace, e.metadata?.name));
          deleted++;
        } catch (err) {
          if (!ApiError.isNotFound(err)) throw err;
        }
      }
      cont = page.metadata.continue || undefined;
    } while (cont);
    return deleted;
  }
}
