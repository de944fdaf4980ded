import { createHash } from 'node:crypto';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';

/** The label pods carry with the name of the revision they were made from. */
export const REVISION_LABEL = 'controller-revision-hash';

/**
 * What a revision records, as Kubernetes stores it: a strategic merge patch that puts the
 * template back whole (`$patch: replace`), which is what `kubectl rollout undo` applies.
 */
export function revisionData(sts: StatefulSet): Record<string, unknown> {
  return { spec: { template: { ...(sts.spec?.template ?? {}), $patch: 'replace' } } };
}

/** The template a revision records. */
export function templateOf(revision: ControllerRevision): PodTemplateSpec {
  const template = { ...(((revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template) ?? {}) };
  delete template.$patch;
  return template as PodTemplateSpec;
}

const alphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** A short stable hash of the data (and collision count), in Kubernetes' safe alphabet. */
export function revisionHash(data: unknown, collisionCount = 0): string {
  const digest = createHash('sha256').update(canonical(data)).update(String(collisionCount)).digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[digest[i] % alphabet.length];
  return out;
}

/** JSON with sorted keys, so equal templates hash alike whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sameData(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}
