import { RESOURCE_METRICS_PATH, type NodeResourceMetrics, type Usage } from '../../kube/node-resource-metrics';
import { Selector } from '../../kube/label-selector';
import type { NodeProxy } from './node-proxy';
import type { Obj, Registry } from './registry';
import type { ResourceRequest } from './request-info';
import { resources, type ResourceInfo } from './resources';
import { errors } from './status';

const nodes = resources.find((r) => r.plural === 'nodes') as ResourceInfo;
const pods = resources.find((r) => r.plural === 'pods') as ResourceInfo;
const API_VERSION = 'metrics.k8s.io/v1beta1';
/** Readings are at most this old, as metrics-server's scrape interval. */
const CACHE_MS = 10_000;
const AGENT_TIMEOUT_MS = 5_000;

/** Quantities as metrics-server writes them: CPU in nanocores ("12345n"), memory in Ki. */
const cpu = (nanoCores: number): string => `${Math.round(nanoCores)}n`;
const memory = (bytes: number): string => `${Math.round(bytes / 1024)}Ki`;
const usageOf = (u: Usage): { cpu: string; memory: string } => ({ cpu: cpu(u.cpuNanoCores), memory: memory(u.memoryBytes) });

/**
 * The metrics API (metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics), served by the master
 * itself where Kubernetes aggregates metrics-server: each node's agent reports CPU rates and
 * memory working sets, read on request through the node proxy and kept 10 s. A node that cannot
 * be reached is left out, as metrics-server leaves out nodes it could not scrape.
 */
export class MetricsApi {
  private readonly readings = new Map<string, { at: number; value: Promise<NodeResourceMetrics | undefined> }>();

  constructor(
    private readonly registry: Registry,
    private readonly proxy: NodeProxy,
  ) {}

  async answer(rr: ResourceRequest): Promise<Obj> {
    if (rr.verb !== 'get' && rr.verb !== 'list') throw errors.methodNotAllowed(`${rr.resource.plural}.metrics.k8s.io only serves get and list`);
    const selector = rr.query.get('labelSelector') ? Selector.parse(rr.query.get('labelSelector') as string) : undefined;
    return rr.resource.kind === 'NodeMetrics' ? this.nodeMetrics(rr, selector) : this.podMetrics(rr, selector);
  }

  private async nodeMetrics(rr: ResourceRequest, selector: Selector | undefined): Promise<Obj> {
    const all = rr.name ? [await this.registry.get(nodes, undefined, rr.name)] : (await this.registry.list(nodes, undefined)).items;
    const chosen = all.filter((n) => !selector || selector.matches(n.metadata?.labels));
    const items: Obj[] = [];
    await Promise.all(chosen.map(async (node) => {
      const name = String(node.metadata?.name);
      const reading = await this.reading(name);
      if (!reading) return;
      items.push({ metadata: { name, labels: node.metadata?.labels ?? {}, creationTimestamp: new Date().toISOString() }, timestamp: reading.timestamp, window: `${reading.windowSeconds}s`, usage: usageOf(reading.node) });
    }));
    items.sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
    if (rr.name) {
      if (items.length === 0) throw errors.notFound(rr.resource, rr.name);
      return { kind: 'NodeMetrics', apiVersion: API_VERSION, ...items[0] };
    }
    return { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items: items.map((i) => ({ kind: 'NodeMetrics', apiVersion: API_VERSION, ...i })) } as Obj;
  }

  private async podMetrics(rr: ResourceRequest, selector: Selector | undefined): Promise<Obj> {
    const all = rr.name ? [await this.registry.get(pods, rr.namespace, rr.name)] : (await this.registry.list(pods, rr.namespace)).items;
    const chosen = all.filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running' && (!selector || selector.matches(p.metadata?.labels)));
    const byNode = new Map<string, Obj[]>();
    for (const p of chosen) {
      const node = (p.spec as { nodeName?: string } | undefined)?.nodeName;
      if (node) byNode.set(node, [...(byNode.get(node) ?? []), p]);
    }
    const items: Obj[] = [];
    await Promise.all([...byNode].map(async ([node, list]) => {
      const reading = await this.reading(node);
      for (const p of list) {
        const found = reading?.pods.find((u) => u.namespace === p.metadata?.namespace && u.name === p.metadata?.name);
        if (!found || !reading || found.containers.length === 0) continue;
        items.push({
          kind: 'PodMetrics',
          apiVersion: API_VERSION,
          metadata: { name: p.metadata?.name, namespace: p.metadata?.namespace, labels: p.metadata?.labels ?? {}, creationTimestamp: new Date().toISOString() },
          timestamp: reading.timestamp,
          window: `${reading.windowSeconds}s`,
          containers: found.containers.map((c) => ({ name: c.name, usage: usageOf(c) })),
        });
      }
    }));
    items.sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
    if (rr.name) {
      if (items.length === 0) throw errors.notFound(rr.resource, rr.name);
      return items[0];
    }
    return { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items } as Obj;
  }

  /** The node's latest figures, shared by every request within 10 s; undefined when its agent cannot say. */
  private reading(node: string): Promise<NodeResourceMetrics | undefined> {
    const cached = this.readings.get(node);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.value;
    const value = this.proxy.agentJson<NodeResourceMetrics>(node, RESOURCE_METRICS_PATH, AGENT_TIMEOUT_MS).catch(() => undefined);
    this.readings.set(node, { at: Date.now(), value });
    return value;
  }
}
