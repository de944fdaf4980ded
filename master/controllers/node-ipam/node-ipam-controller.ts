import type { Node } from 'kubernetes-types/core/v1';
import { ApiError } from '../../../kube/api-error';
import { objectRef, type EventRecorder } from '../../../kube/event-recorder';
import { core } from '../../../kube/resource-path';
import type { InformerLike } from '../../../kube/shared-informers';
import type { KeyClaims } from '../../store/key-claims';
import type { ControllerContext } from '../controller-context';
import { QueueController } from '../queue-controller';
import { CidrSet } from './cidr-set';

/** What the node IPAM loop is configured with (`lotse master --cluster-cidr --node-cidr-mask-size`). */
export interface NodeIpamSettings {
  /** The cluster's pod range, default 10.244.0.0/16 (flannel's default network). */
  clusterCidr: string;
  /** The size of each node's block, default 24. */
  nodeCidrMaskSize: number;
  /** Where allocations are claimed: store keys, so two masters never hand out one block twice. */
  claims: KeyClaims;
}

export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

/**
 * Gives every Node a `spec.podCIDR` (and `podCIDRs`) from the cluster pod range, as Kubernetes'
 * node IPAM controller (range allocator) does; flannel in --kube-subnet-mgr mode and the agent's
 * pod network read it from there. A block is claimed in the store before it is written to the
 * Node, kept while the Node exists (also across master restarts: a Node's existing podCIDR is
 * claimed for it, never replaced) and released when the Node is deleted.
 */
export class NodeIpamController extends QueueController {
  readonly name = 'node-ipam-controller';
  private readonly nodes: InformerLike<Node>;
  private readonly cidrs: CidrSet;
  private readonly claims: KeyClaims;
  private readonly recorder: EventRecorder;
  /** Where the next search starts, so allocations do not rescan the taken blocks from 0. */
  private next = 0;

  constructor(ctx: ControllerContext, settings: NodeIpamSettings) {
    super(ctx, { workers: 1, failure: 'pod CIDR allocation failed', keyField: 'node', baseDelayMs: 200, maxDelayMs: 30_000 });
    this.cidrs = new CidrSet(settings.clusterCidr, settings.nodeCidrMaskSize);
    this.claims = settings.claims;
    this.recorder = ctx.recorder(this.name);
    this.nodes = ctx.informers.get<Node>(core('nodes'));
    this.nodes.on((type, node) => {
      // A modification matters only when it took the podCIDR away or the node never got one.
      if (type !== 'MODIFIED' || !node.spec?.podCIDR) this.queue.add(node.metadata?.name ?? '');
      // A freed block is for the Nodes still waiting for one, not after their back-off.
      if (type === 'DELETED') for (const waiting of this.nodes.list()) if (!waiting.spec?.podCIDR) this.queue.add(waiting.metadata?.name ?? '');
    });
  }

  /** Also looks at every claim's owner once: a Node deleted while no master ran releases its block. */
  override start(): void {
    super.start();
    this.claims.list().then(
      (claims) => claims.forEach((c) => this.queue.add(c.owner)),
      (err: Error) => this.ctx.log('listing pod CIDR claims failed', { error: err.message }),
    );
  }

  protected async sync(name: string): Promise<void> {
    const node = this.nodes.get(name);
    const held = (await this.claims.list()).filter((c) => c.owner === name).map((c) => fromClaimName(c.name));
    if (!node) {
      for (const cidr of held) await this.claims.release(toClaimName(cidr));
      return;
    }
    const current = node.spec?.podCIDR;
    if (current) return this.keep(node, current, held);
    // A claim left by an allocation that crashed before writing the Node is reused.
    const cidr = held.find((c) => this.cidrs.indexOf(c) !== undefined) ?? (await this.allocate(name));
    try {
      await this.ctx.client.patch(core('nodes', undefined, name), 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (err) {
      if (ApiError.isNotFound(err)) return this.claims.release(toClaimName(cidr));
      throw err;
    }
    this.recorder.record(objectRef(node, 'Node'), 'Normal', 'CIDRAssignmentSucceeded', `Node ${name} got pod CIDR ${cidr}`);
  }

  /** A Node that has its podCIDR keeps it; its claim is (re)made and any other claim of it dropped. */
  private async keep(node: Node, current: string, held: string[]): Promise<void> {
    const name = node.metadata?.name ?? '';
    if (this.cidrs.indexOf(current) !== undefined && !(await this.claims.claim(toClaimName(current), name))) {
      this.recorder.record(objectRef(node, 'Node'), 'Warning', 'CIDRNotAvailable', `pod CIDR ${current} of node ${name} is claimed by another node; delete and re-register one of them`);
    }
    for (const cidr of held) if (cidr !== current) await this.claims.release(toClaimName(cidr));
  }

  private async allocate(name: string): Promise<string> {
    for (let i = 0; i < this.cidrs.count; i += 1) {
      const index = (this.next + i) % this.cidrs.count;
      const cidr = this.cidrs.subnet(index);
      if (await this.claims.claim(toClaimName(cidr), name)) {
        this.next = index + 1;
        return cidr;
      }
    }
    const node = this.nodes.get(name);
    const message = `no pod CIDR left in ${this.cidrs.clusterCidr} (${this.cidrs.count} blocks of /${this.cidrs.maskSize}) for node ${name}; widen --cluster-cidr or remove nodes`;
    if (node) this.recorder.record(objectRef(node, 'Node'), 'Warning', 'CIDRNotAvailable', message);
    throw new Error(message);
  }
}

/** Store key names cannot hold "/": 10.244.3.0/24 is claimed as 10.244.3.0-24. */
function toClaimName(cidr: string): string {
  return cidr.replace('/', '-');
}

function fromClaimName(name: string): string {
  return name.replace(/-(\d+)$/, '/$1');
}
