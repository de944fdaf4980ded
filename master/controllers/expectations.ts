/**
 * Creations and deletions a controller has asked for but not yet seen on its watch (client-go's
 * ControllerExpectations). While any are outstanding the controller does not count pods again,
 * or it would create the same replicas twice. Stale expectations expire, so a lost event cannot
 * wedge a controller.
 */
export class Expectations {
  private readonly pending = new Map<string, { adds: Set<string>; dels: Set<string>; since: number }>();

  constructor(private readonly ttlMs = 5 * 60_000) {}

  expectCreations(owner: string, names: string[]): void {
    const e = this.entry(owner);
    for (const n of names) e.adds.add(n);
  }

  expectDeletions(owner: string, names: string[]): void {
    const e = this.entry(owner);
    for (const n of names) e.dels.add(n);
  }

  creationObserved(owner: string, name: string): void {
    this.pending.get(owner)?.adds.delete(name);
  }

  deletionObserved(owner: string, name: string): void {
    this.pending.get(owner)?.dels.delete(name);
  }

  satisfied(owner: string, now = Date.now()): boolean {
    const e = this.pending.get(owner);
    if (!e) return true;
    if ((e.adds.size === 0 && e.dels.size === 0) || now - e.since > this.ttlMs) {
      this.pending.delete(owner);
      return true;
    }
    return false;
  }

  delete(owner: string): void {
    this.pending.delete(owner);
  }

  private entry(owner: string): { adds: Set<string>; dels: Set<string>; since: number } {
    let e = this.pending.get(owner);
    if (!e) this.pending.set(owner, (e = { adds: new Set(), dels: new Set(), since: Date.now() }));
    e.since = Date.now();
    return e;
  }
}
