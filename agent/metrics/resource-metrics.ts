import { readFile } from 'node:fs/promises';
import type { NodeResourceMetrics, PodUsage } from '../../kube/node-resource-metrics';
import type { ContainerRuntime, ContainerUsage } from '../runtime/container-runtime';

/** How often readings are taken once someone asked (metrics-server scrapes every 15 s). */
const PERIOD_MS = 10_000;
/** The first answer needs two readings for a rate; this far apart. */
const FIRST_WINDOW_MS = 1_000;
/** Nobody asked for this long: stop reading, so an idle node spends nothing on it. */
const IDLE_STOP_MS = 120_000;

interface Reading {
  at: number;
  node: { busyNs: number; memoryBytes: number };
  containers: Map<string, { pod: { namespace: string; name: string }; name: string; usage: ContainerUsage }>;
}

/**
 * CPU rates and memory of the node and of each running container, from two readings of the
 * engine's stats and /proc. Reading starts at the first request (an agent nobody asks costs
 * nothing) and goes on every 10 s while asked; the answer is always the latest complete pair.
 */
export class ResourceMetrics {
  private previous: Reading | undefined;
  private latest: NodeResourceMetrics | undefined;
  private timer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private askedAt = 0;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly proc = '/proc',
  ) {}

  async current(): Promise<NodeResourceMetrics> {
    this.askedAt = Date.now();
    if (!this.latest) {
      this.starting ??= this.start().finally(() => (this.starting = undefined));
      await this.starting;
    }
    return this.latest as NodeResourceMetrics;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async start(): Promise<void> {
    this.previous = await this.read();
    await new Promise((r) => setTimeout(r, FIRST_WINDOW_MS));
    await this.sample();
    this.timer = setInterval(() => {
      if (Date.now() - this.askedAt > IDLE_STOP_MS) {
        this.stop();
        this.latest = undefined;
        this.previous = undefined;
        return;
      }
      void this.sample().catch(() => undefined);
    }, PERIOD_MS);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    const now = await this.read();
    const before = this.previous as Reading;
    this.previous = now;
    const seconds = Math.max(0.001, (now.at - before.at) / 1000);
    const rate = (later: number, earlier: number): number => Math.max(0, Math.round((later - earlier) / seconds));
    const pods = new Map<string, PodUsage>();
    for (const [id, c] of now.containers) {
      const earlier = before.containers.get(id);
      if (!earlier) continue; // started between the readings: no rate yet
      const key = `${c.pod.namespace}/${c.pod.name}`;
      const pod = pods.get(key) ?? { namespace: c.pod.namespace, name: c.pod.name, containers: [] };
      pod.containers.push({ name: c.name, cpuNanoCores: rate(c.usage.cpuUsageNanoseconds, earlier.usage.cpuUsageNanoseconds), memoryBytes: c.usage.memoryWorkingSetBytes });
      pods.set(key, pod);
    }
    this.latest = {
      timestamp: new Date(now.at).toISOString(),
      windowSeconds: Math.round(seconds * 1000) / 1000,
      node: { cpuNanoCores: rate(now.node.busyNs, before.node.busyNs), memoryBytes: now.node.memoryBytes },
      pods: [...pods.values()],
    };
  }

  private async read(): Promise<Reading> {
    const listed = (await this.runtime.listContainers()).filter((c) => c.kind !== 'sandbox' && c.state === 'running');
    const usages = await Promise.all(listed.map((c) => this.runtime.usage(c.id)));
    const containers: Reading['containers'] = new Map();
    listed.forEach((c, i) => {
      const usage = usages[i];
      if (usage) containers.set(c.id, { pod: { namespace: c.pod.namespace, name: c.pod.name }, name: c.name, usage });
    });
    return { at: Date.now(), node: await this.nodeUsage(), containers };
  }

  /** Busy CPU time of the whole machine (all but idle and iowait, USER_HZ = 100) and memory in use. */
  private async nodeUsage(): Promise<{ busyNs: number; memoryBytes: number }> {
    const [stat, meminfo] = await Promise.all([readFile(`${this.proc}/stat`, 'utf8'), readFile(`${this.proc}/meminfo`, 'utf8')]);
    const ticks = (stat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const busy = ticks.slice(0, 8).reduce((a, b) => a + b, 0) - (ticks[3] ?? 0) - (ticks[4] ?? 0);
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
    return { busyNs: busy * 10_000_000, memoryBytes: (kb('MemTotal') - kb('MemAvailable')) * 1024 };
  }
}
