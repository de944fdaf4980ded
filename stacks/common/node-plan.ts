import type { HostRole } from '../../cluster/cluster-outputs-document';

/** A machine a cloud stack creates; names are stable so `cdktf deploy` after a count change adds or removes only the tail. */
export interface PlannedNode {
  readonly name: string;
  readonly role: HostRole;
  /** Position within its role, used for construct ids. */
  readonly index: number;
}

export function planNodes(cluster: string, masters: number, workers: number): PlannedNode[] {
  const make = (role: HostRole, count: number): PlannedNode[] =>
    Array.from({ length: count }, (_, index) => ({ name: `${cluster}-${role}-${index}`, role, index }));
  return [...make('master', masters), ...make('worker', workers)];
}
