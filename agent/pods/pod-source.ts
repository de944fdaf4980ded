import type { Pod } from 'kubernetes-types/core/v1';
import type { InformerHandler } from '../../kube/informer';

/** The pods bound to one node: a field-selected Informer, or a slice of a hollow-node shared one. */
export interface PodSource {
  on(handler: InformerHandler<Pod>): unknown;
  list(): Pod[];
  start(): Promise<void>;
  stop(): void;
}

/**
 * One node's view of an informer over every pod: hundreds of hollow nodes share one watch
 * instead of holding one each.
 */
export class NodePodView implements PodSource {
  private readonly handlers: InformerHandler<Pod>[] = [];

  constructor(private readonly shared: { list(): Pod[] }, private readonly nodeName: string) {}

  on(handler: InformerHandler<Pod>): this {
    this.handlers.push(handler);
    return this;
  }

  /** Called by whoever owns the shared informer, for every event. */
  dispatch(type: Parameters<InformerHandler<Pod>>[0], obj: Pod, old?: Pod): void {
    const mine = obj.spec?.nodeName === this.nodeName;
    const was = old?.spec?.nodeName === this.nodeName;
    if (!mine && !was) return;
    const t = type === 'DELETED' || !mine ? 'DELETED' : was ? type : 'ADDED';
    for (const h of this.handlers) h(t, obj, old);
  }

  list(): Pod[] {
    return this.shared.list().filter((p) => p.spec?.nodeName === this.nodeName);
  }

  async start(): Promise<void> {
    // the owner starts the shared informer
  }

  stop(): void {
    this.handlers.length = 0;
  }
}
