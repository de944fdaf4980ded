import { sameContent } from './same-content';
import { errors } from './status';

type Named = { name?: string };
type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

const pods = { kind: 'Pod', group: '', plural: 'pods' };

/**
 * A write to pods/NAME/ephemeralcontainers (kubectl debug): only spec.ephemeralContainers changes,
 * and as in Kubernetes an ephemeral container, once added, can be neither removed nor changed.
 */
export function withEphemeralContainers(current: Obj, next: Obj): Obj {
  const name = String(current.metadata?.name ?? '');
  const before = ((current.spec as { ephemeralContainers?: Named[] } | undefined)?.ephemeralContainers ?? []);
  const after = ((next.spec as { ephemeralContainers?: Named[] } | undefined)?.ephemeralContainers ?? []);
  for (const old of before) {
    const kept = after.find((c) => c.name === old.name);
    if (!kept) throw errors.invalid(pods, name, [{ field: 'spec.ephemeralContainers', message: `Forbidden: existing ephemeral containers "${old.name}" may not be removed` }]);
    if (!sameContent(kept, old)) throw errors.invalid(pods, name, [{ field: 'spec.ephemeralContainers', message: `Forbidden: existing ephemeral containers "${old.name}" may not be changed` }]);
  }
  const names = new Set<string>();
  for (const c of [...((current.spec as { containers?: Named[] }).containers ?? []), ...((current.spec as { initContainers?: Named[] }).initContainers ?? []), ...after]) {
    if (names.has(String(c.name))) throw errors.invalid(pods, name, [{ field: 'spec.ephemeralContainers', message: `Duplicate value: "${c.name}"` }]);
    names.add(String(c.name));
  }
  const out = structuredClone(current);
  (out.spec as { ephemeralContainers?: Named[] }).ephemeralContainers = after;
  out.metadata = { ...(current.metadata ?? {}), managedFields: next.metadata?.managedFields ?? current.metadata?.managedFields };
  return out;
}
