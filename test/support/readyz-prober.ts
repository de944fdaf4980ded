import { rawRequest } from './https-raw';

export interface ProbeRecord {
  status: number;
  ms: number;
  at: number;
}

/**
 * Asks /readyz every intervalMs while a test abuses the master, recording each answer and how
 * long it took (a probe that gets no answer in 5 s records status 0).
 */
export class ReadyzProber {
  readonly records: ProbeRecord[] = [];
  private running = true;
  private loop: Promise<void>;

  constructor(url: string, caPem: string, intervalMs = 100) {
    this.loop = (async () => {
      while (this.running) {
        const started = Date.now();
        const status = await rawRequest(url, caPem, 'GET', '/readyz', { timeoutMs: 5000 }).then((r) => r.status, () => 0);
        this.records.push({ status, ms: Date.now() - started, at: started });
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
  }

  async stop(): Promise<ProbeRecord[]> {
    this.running = false;
    await this.loop;
    return this.records;
  }

  slowest(): number {
    return Math.max(0, ...this.records.map((r) => r.ms));
  }

  statuses(): number[] {
    return [...new Set(this.records.map((r) => r.status))].sort();
  }
}
