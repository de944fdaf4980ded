import fs from 'node:fs';
import type { LocalPaths } from './local-paths';
import { stopProcess } from './process-supervisor';

interface Started {
  component: string;
  pid: number;
  marker: string;
}

/**
 * The processes one `lotse up` started, so a failure or Ctrl-C stops them again. On SIGINT or
 * SIGTERM it kills them at once (process groups), runs onAbort (the lock) and exits 130.
 */
export class StartedProcesses {
  private readonly list: Started[] = [];
  private readonly onSignal = (): void => this.abort();

  constructor(private readonly paths: LocalPaths, private readonly onAbort: () => void) {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  add(component: string, pid: number, marker: string): void {
    this.list.push({ component, pid, marker });
  }

  /** Success: the processes are the cluster now. */
  keep(): void {
    this.list.length = 0;
  }

  async stopAll(): Promise<void> {
    for (const s of this.list.splice(0).reverse()) await stopProcess(s.pid, s.marker, this.paths.pidFile(s.component), 3000);
  }

  dispose(): void {
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
  }

  private abort(): void {
    for (const s of this.list) {
      try {
        process.kill(-s.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      fs.rmSync(this.paths.pidFile(s.component), { force: true });
    }
    this.onAbort();
    process.stderr.write('lotse up: interrupted; stopped what it had started\n');
    process.exit(130);
  }
}
