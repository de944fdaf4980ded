import type { Backend } from './service-table';

/**
 * Round-robin over a service port's backends, with optional ClientIP affinity: a client keeps its
 * backend for affinitySeconds after its last connection, as long as that backend is still ready.
 */
export class BackendPicker {
  private next = 0;
  private readonly affinity = new Map<string, { backend: Backend; expires: number }>();
  backends: Backend[] = [];
  affinitySeconds?: number;

  pick(clientIp: string, skip: ReadonlySet<string> = new Set()): Backend | undefined {
    const candidates = this.backends.filter((b) => !skip.has(key(b)));
    if (candidates.length === 0) return undefined;
    const now = Date.now();
    if (this.affinitySeconds !== undefined) {
      const held = this.affinity.get(clientIp);
      if (held && held.expires > now && candidates.some((b) => key(b) === key(held.backend))) {
        held.expires = now + this.affinitySeconds * 1000;
        return held.backend;
      }
    }
    const backend = candidates[this.next++ % candidates.length];
    if (this.affinitySeconds !== undefined) {
      this.affinity.set(clientIp, { backend, expires: now + this.affinitySeconds * 1000 });
      if (this.affinity.size > 10_000) this.sweep(now);
    }
    return backend;
  }

  private sweep(now: number): void {
    for (const [ip, held] of this.affinity) if (held.expires <= now) this.affinity.delete(ip);
  }
}

export function key(b: Backend): string {
  return `${b.ip}:${b.port}`;
}
