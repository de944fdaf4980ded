import type { ResourceQuota } from 'kubernetes-types/core/v1';
import { objectKey } from '../../../kube/object';
import { formatQuotaUsage, quotaUsageOf, resourceOfQuotaKey } from '../../../kube/quota-usage';
import { core } from '../../../kube/resource-path';
import type { InformerLike } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';

/** How often every quota's usage is recounted; the API's admission is what enforces, this only reports. */
const RESYNC_MS = 10_000;

/**
 * Keeps status.hard and status.used of every ResourceQuota, as `kubectl describe quota` shows
 * them: usage is recounted from the objects of the namespace when the quota changes and every
 * 10 s (enforcement happens in the API's quota admission, on every create).
 */
export class ResourceQuotaController extends QueueController {
  readonly name = 'resourcequota-controller';
  private readonly quotas: InformerLike<ResourceQuota>;
  private resync: NodeJS.Timeout | undefined;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'resource quota sync failed', keyField: 'resourcequota', baseDelayMs: 500, maxDelayMs: 30_000 });
    this.quotas = ctx.informers.get<ResourceQuota>(core('resourcequotas'));
    this.quotas.on((type, q) => {
      if (type !== 'DELETED') this.queue.add(objectKey(q));
    });
  }

  override start(): void {
    super.start();
    this.resync = setInterval(() => {
      for (const q of this.quotas.list()) this.queue.add(objectKey(q));
    }, RESYNC_MS);
    this.resync.unref();
  }

  override stop(): Promise<void> {
    clearInterval(this.resync);
    return super.stop();
  }

  protected async sync(key: string): Promise<void> {
    const quota = this.quotas.get(key);
    if (!quota) return;
    const ns = quota.metadata?.namespace ?? '';
    const hard = quota.spec?.hard ?? {};
    const used: Record<string, string> = {};
    const lists = new Map<string, unknown[]>();
    for (const k of Object.keys(hard)) {
      const target = resourceOfQuotaKey(k);
      if (!target) continue;
      const id = `${target.group}/${target.plural}`;
      let items = lists.get(id);
      if (!items) lists.set(id, (items = (await this.ctx.client.list({ group: target.group, version: 'v1', resource: target.plural, namespace: ns })).items));
      used[k] = formatQuotaUsage(k, items.reduce<number>((n, o) => n + (quotaUsageOf(target.group, target.plural, o as never)[k] ?? 0), 0));
    }
    if (JSON.stringify(quota.status?.hard ?? {}) === JSON.stringify(hard) && JSON.stringify(quota.status?.used ?? {}) === JSON.stringify(used)) return;
    await this.ctx.client.patch(core('resourcequotas', ns, quota.metadata?.name, 'status'), 'merge', { status: { hard, used } });
  }
}
