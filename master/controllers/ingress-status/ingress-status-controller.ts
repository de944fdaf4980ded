import type { Node } from 'kubernetes-types/core/v1';
import type { Ingress, IngressClass, IngressLoadBalancerIngress } from 'kubernetes-types/networking/v1';
import { servedByLotse } from '../../../kube/ingress-class';
import { core, type ResourceRef } from '../../../kube/resource-path';
import type { InformerLike } from '../../../kube/shared-informers';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';

const ingressesRef: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' };
const classesRef: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' };

/**
 * Writes where the Ingresses of lotse's classes answer into their status.loadBalancer: every agent
 * routes every Ingress, so the addresses are those of the Ready nodes (ExternalIP where a node has
 * one, else InternalIP), as `kubectl get ingress` shows under ADDRESS.
 */
export class IngressStatusController extends QueueController {
  readonly name = 'ingress-status-controller';
  private readonly ingresses: InformerLike<Ingress>;
  private readonly classes: InformerLike<IngressClass>;
  private readonly nodes: InformerLike<Node>;

  constructor(ctx: ControllerContext) {
    super(ctx, { workers: 2, failure: 'ingress status update failed', keyField: 'ingress', baseDelayMs: 200, maxDelayMs: 10_000 });
    this.ingresses = ctx.informers.get<Ingress>(ingressesRef);
    this.classes = ctx.informers.get<IngressClass>(classesRef);
    this.nodes = ctx.informers.get<Node>(core('nodes'));
    const all = (): void => {
      for (const i of this.ingresses.list()) this.queue.add(keyOf(i));
    };
    this.ingresses.on((_type, obj) => this.queue.add(keyOf(obj)));
    this.classes.on(all);
    this.nodes.on((_type, obj, old) => {
      if (JSON.stringify(addressesOf([obj])) !== JSON.stringify(old ? addressesOf([old]) : [])) all();
    });
  }

  protected async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const ingress = this.ingresses.get(key);
    if (!ingress || ingress.metadata?.deletionTimestamp || !servedByLotse(ingress, this.classes.list())) return;
    const wanted = addressesOf(this.nodes.list());
    if (JSON.stringify(ingress.status?.loadBalancer?.ingress ?? []) === JSON.stringify(wanted)) return;
    await this.ctx.client.patch({ ...ingressesRef, namespace, name, subresource: 'status' }, 'merge', { status: { loadBalancer: { ingress: wanted.length ? wanted : null } } });
  }
}

function keyOf(i: Ingress): string {
  return `${i.metadata?.namespace}/${i.metadata?.name}`;
}

function addressesOf(nodes: Node[]): IngressLoadBalancerIngress[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (!ready || n.metadata?.deletionTimestamp) continue;
    const addresses = n.status?.addresses ?? [];
    const ip = addresses.find((a) => a.type === 'ExternalIP')?.address ?? addresses.find((a) => a.type === 'InternalIP')?.address;
    if (ip) ips.add(ip);
  }
  return [...ips].sort().map((ip) => ({ ip }));
}
