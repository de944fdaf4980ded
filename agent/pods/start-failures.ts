import fs from 'node:fs';
import path from 'node:path';
import type { RuntimeContainer } from '../runtime/container-runtime';

/** Exit code the kubelet reports for a container whose process never started. */
export const START_ERROR_EXIT_CODE = 128;

interface Failure {
  message: string;
  at: string;
}

/**
 * Containers whose start failed (the command does not exist, a mount is refused). Podman keeps such
 * a container as just "created", without an exit code or error, so the agent remembers the failure
 * itself, in the pod's directory (DATA/pods/UID/start-failures.json): a restarted agent must still
 * see a restartPolicy Never container as failed, not as one that never got its turn, and not start it.
 */
export class StartFailures {
  private readonly byPod = new Map<string, Map<string, Failure>>();

  constructor(private readonly podDir: (uid: string) => string) {}

  record(uid: string, containerId: string, message: string, at = new Date()): void {
    const failures = this.load(uid);
    failures.set(containerId, { message, at: at.toISOString() });
    const file = this.file(uid);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(Object.fromEntries(failures)));
    fs.renameSync(`${file}.tmp`, file);
  }

  /**
   * The pod's containers with every recorded start failure shown as what it is: a container that
   * exited with 128 (StartError) at the time of the failure, which restartPolicy then judges.
   */
  apply(uid: string, containers: RuntimeContainer[]): RuntimeContainer[] {
    const failures = this.load(uid);
    if (failures.size === 0) return containers;
    return containers.map((c) => {
      const f = c.state === 'created' ? failures.get(c.id) : undefined;
      return f ? { ...c, state: 'exited', exitCode: START_ERROR_EXIT_CODE, reason: 'StartError', message: f.message, finishedAt: new Date(f.at) } : c;
    });
  }

  /** Drops the in-memory copy; the file goes with the pod's directory. */
  forget(uid: string): void {
    this.byPod.delete(uid);
  }

  private load(uid: string): Map<string, Failure> {
    let failures = this.byPod.get(uid);
    if (failures) return failures;
    failures = new Map();
    try {
      const saved = JSON.parse(fs.readFileSync(this.file(uid), 'utf8')) as Record<string, Failure>;
      for (const [id, f] of Object.entries(saved)) failures.set(id, f);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`reading the start failures of pod ${uid}: ${(err as Error).message}`);
    }
    this.byPod.set(uid, failures);
    return failures;
  }

  private file(uid: string): string {
    return path.join(this.podDir(uid), 'start-failures.json');
  }
}
