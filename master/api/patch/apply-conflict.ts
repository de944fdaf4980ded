import { HttpError, type StatusCause } from '../status';
import { formatPath, members, type FieldSet } from './field-set';
import { describeOwner, type Owner } from './managed-fields';

export interface Conflict {
  owner: Owner;
  path: string;
}

/** One conflict per field owned by someone else whose value the apply would change. */
export function conflictsOf(owners: ReadonlyMap<string, Owner>, conflicts: ReadonlyMap<string, FieldSet>): Conflict[] {
  const out: Conflict[] = [];
  for (const key of [...conflicts.keys()].sort()) {
    const owner = owners.get(key);
    if (!owner) continue;
    for (const path of members(conflicts.get(key) as FieldSet)) out.push({ owner, path: formatPath(path) });
  }
  return out;
}

/**
 * The 409 Kubernetes answers (NewApplyConflict): reason Conflict, a FieldManagerConflict cause
 * per field, and a message kubectl prints before its advice about --force-conflicts.
 */
export function applyConflictError(conflicts: readonly Conflict[]): HttpError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeOwner(c.owner)}`, field: c.path }));
  return new HttpError(409, 'Conflict', conflictMessage(conflicts), { causes });
}

function conflictMessage(conflicts: readonly Conflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${describeOwner(conflicts[0].owner)}: ${conflicts[0].path}`;
  const byOwner = new Map<string, string[]>();
  for (const c of conflicts) {
    const name = describeOwner(c.owner);
    byOwner.set(name, [...(byOwner.get(name) ?? []), c.path]);
  }
  const lines: string[] = [];
  for (const name of [...byOwner.keys()].sort()) lines.push(`conflicts with ${name}:`, ...(byOwner.get(name) as string[]).map((p) => `- ${p}`));
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
