/** Prometheus text exposition of the master's counters and latency histograms. */
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

class Histogram {
  readonly counts = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observe(labels: string, seconds: number): void {
    let h = this.counts.get(labels);
    if (!h) {
      h = { buckets: buckets.map(() => 0), sum: 0, count: 0 };
      this.counts.set(labels, h);
    }
    buckets.forEach((b, i) => {
      if (seconds <= b) h.buckets[i]++;
    });
    h.sum += seconds;
    h.count++;
  }

  render(name: string, help: string): string[] {
    const out = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    for (const [labels, h] of this.counts) {
      buckets.forEach((b, i) => out.push(`${name}_bucket{${labels},le="${b}"} ${h.buckets[i]}`));
      out.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`, `${name}_sum{${labels}} ${h.sum}`, `${name}_count{${labels}} ${h.count}`);
    }
    return out;
  }
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly requestLatency = new Histogram();
  private readonly sliLatency = new Histogram();
  private readonly slotWait = new Histogram();
  private readonly storeLatency = new Histogram();
  private watches = 0;

  /**
   * One answered request. `queuedSeconds` is its wait for a max-in-flight slot (undefined when it
   * did not reach the filter): kube-apiserver's SLI histogram, the one its SLOs are measured on,
   * leaves out the wait in API Priority and Fairness's queues, and so does lotse's.
   */
  request(verb: string, resource: string, code: number, seconds: number, queuedSeconds?: number): void {
    const labels = `verb="${verb}",resource="${resource}"`;
    const key = `${labels},code="${code}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (verb === 'WATCH') return;
    this.requestLatency.observe(labels, seconds);
    this.sliLatency.observe(labels, Math.max(0, seconds - (queuedSeconds ?? 0)));
    if (queuedSeconds !== undefined) this.slotWait.observe(labels, queuedSeconds);
  }

  store(operation: string, seconds: number): void {
    this.storeLatency.observe(`operation="${operation}"`, seconds);
  }

  watchOpened(): void {
    this.watches++;
  }

  watchClosed(): void {
    this.watches--;
  }

  render(): string {
    const mem = process.memoryUsage();
    const lines = ['# HELP apiserver_request_total Requests by verb, resource and HTTP code.', '# TYPE apiserver_request_total counter'];
    for (const [k, v] of this.requests) lines.push(`apiserver_request_total{${k}} ${v}`);
    lines.push(...this.requestLatency.render('apiserver_request_duration_seconds', 'Request latency by verb and resource (watches excluded).'));
    lines.push(...this.sliLatency.render('apiserver_request_sli_duration_seconds', 'Request latency by verb and resource, without the wait for a max-in-flight slot (watches excluded).'));
    lines.push(...this.slotWait.render('lotse_request_queue_wait_seconds', 'Wait for a max-in-flight slot by verb and resource (about 0 for a request admitted at once).'));
    lines.push(...this.storeLatency.render('lotse_store_operation_duration_seconds', 'Store operation latency.'));
    lines.push('# HELP apiserver_registered_watchers Open watches.', '# TYPE apiserver_registered_watchers gauge', `apiserver_registered_watchers ${this.watches}`);
    lines.push('# HELP process_resident_memory_bytes Resident memory.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    // Where the resident memory is: V8's heap, or outside it (Buffers' bytes and what the runtime's
    // native parts hold: TLS and HTTP/2 state per connection and stream, SQLite).
    lines.push('# HELP nodejs_heap_size_total_bytes V8 heap reserved.', '# TYPE nodejs_heap_size_total_bytes gauge', `nodejs_heap_size_total_bytes ${mem.heapTotal}`);
    lines.push('# HELP nodejs_heap_size_used_bytes V8 heap used.', '# TYPE nodejs_heap_size_used_bytes gauge', `nodejs_heap_size_used_bytes ${mem.heapUsed}`);
    lines.push('# HELP nodejs_external_memory_bytes Memory of C++ objects bound to JavaScript objects, Buffers included.', '# TYPE nodejs_external_memory_bytes gauge', `nodejs_external_memory_bytes ${mem.external}`);
    lines.push('# HELP nodejs_array_buffers_bytes Memory of ArrayBuffers and Buffers (part of nodejs_external_memory_bytes).', '# TYPE nodejs_array_buffers_bytes gauge', `nodejs_array_buffers_bytes ${mem.arrayBuffers}`);
    return lines.join('\n') + '\n';
  }
}
