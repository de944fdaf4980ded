import { execFile } from 'node:child_process';
import type { ServicePortEntry } from './service-table';

/** One UDP flow family to forget: datagrams to dst:port that were translated to backendIp. */
export interface StaleUdpFlow {
  dst?: string;
  port: number;
  backendIp: string;
}

/**
 * UDP has no connection end, so conntrack keeps sending a client's datagrams to a backend that
 * left the service until the entry times out (30-180 s); kube-proxy deletes those entries, and so
 * do we, with conntrack(8) (Debian: conntrack). Without the tool, stale flows age out on their own.
 */
export class ConntrackCleaner {
  private missingLogged = false;

  constructor(
    private readonly netns?: string,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** UDP backends present before and gone now, per ClusterIP and NodePort. */
  static staleUdpFlows(before: ServicePortEntry[], after: ServicePortEntry[]): StaleUdpFlow[] {
    const now = new Map(after.map((e) => [e.id, e]));
    const out: StaleUdpFlow[] = [];
    for (const old of before) {
      if (old.protocol !== 'UDP') continue;
      const kept = new Set((now.get(old.id)?.backends ?? []).map((b) => b.ip));
      for (const b of old.backends) {
        if (kept.has(b.ip)) continue;
        if (old.clusterIP) out.push({ dst: old.clusterIP, port: old.port, backendIp: b.ip });
        if (old.nodePort) out.push({ port: old.nodePort, backendIp: b.ip });
      }
    }
    return out;
  }

  async clear(flows: StaleUdpFlow[]): Promise<void> {
    for (const f of flows) {
      const args = ['-D', '-p', 'udp', ...(f.dst ? ['--orig-dst', f.dst] : []), '--dport', String(f.port), '--reply-src', f.backendIp];
      await this.run(args);
    }
  }

  private run(args: string[]): Promise<void> {
    const argv = this.netns ? ['ip', 'netns', 'exec', this.netns, 'conntrack', ...args] : ['conntrack', ...args];
    return new Promise((resolve) =>
      execFile(argv[0], argv.slice(1), (err) => {
        // Exit 1 with "0 flow entries" just means nothing matched.
        const missing = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' || /No such file/.test(String(err?.message));
        if (missing && !this.missingLogged) {
          this.missingLogged = true;
          this.log('service proxy: conntrack(8) not found; UDP flows to removed endpoints age out instead of ending now (apt-get install conntrack)');
        }
        resolve();
      }),
    );
  }
}
