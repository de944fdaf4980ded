import type { ContainerRuntime, RuntimeContainer } from '../runtime/container-runtime';

/** What a relist compares of a container: a change of state or exit code is a lifecycle event of its pod. */
interface Seen {
  podUid: string;
  state: RuntimeContainer['state'];
  exitCode?: number;
}

/**
 * Pod lifecycle event generator: relists the runtime's containers every period and reports the
 * pods whose containers changed (started, exited, vanished, appeared), as the kubelet's PLEG does.
 */
export class Pleg {
  private last = new Map<string, Seen>();
  private snapshot: RuntimeContainer[] = [];
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  /** Set when the last relist failed: the node reports the runtime as down. */
  lastError?: Error;
  lastRelistAt = 0;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly onPodChanged: (podUid: string) => void,
    private readonly periodMs = 1000,
  ) {}

  /** The containers as of the last relist. */
  containers(): RuntimeContainer[] {
    return this.snapshot;
  }

  async start(): Promise<void> {
    await this.relist();
    this.loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Relists now (after the agent changed something itself). */
  async relist(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const list = await this.runtime.listContainers();
      this.lastError = undefined;
      this.lastRelistAt = Date.now();
      const next = new Map<string, Seen>();
      const changed = new Set<string>();
      for (const c of list) {
        const before = this.last.get(c.id);
        // Unchanged containers keep their record: a relist of a quiet node allocates little.
        if (before && before.state === c.state && before.exitCode === c.exitCode) next.set(c.id, before);
        else {
          next.set(c.id, { podUid: c.pod.uid, state: c.state, exitCode: c.exitCode });
          changed.add(c.pod.uid);
        }
      }
      for (const [id, v] of this.last) if (!next.has(id)) changed.add(v.podUid);
      this.last = next;
      this.snapshot = list;
      for (const uid of changed) this.onPodChanged(uid);
    } catch (err) {
      this.lastError = err as Error;
    } finally {
      this.running = false;
    }
  }

  private loop(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.relist().finally(() => this.loop()), this.periodMs);
    this.timer.unref();
  }
}
