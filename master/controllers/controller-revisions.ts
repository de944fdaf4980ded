import { createHash } from 'node:crypto';
import type { ControllerRevision } from 'kubernetes-types/apps/v1';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { LabelSelector, ObjectMeta } from 'kubernetes-types/meta/v1';
import { ApiError } from '../../kube/api-error';
import type { KubeClient } from '../../kube/client';
import { apps } from '../../kube/resource-path';
import { deleteObject } from './delete-object';
import { controllerRef, newControllerRef } from './owner-references';

/**
 * ControllerRevisions, as StatefulSets and DaemonSets record their templates in Kubernetes (so
 * `kubectl rollout history` and `undo` work on both).
 */

/** The label pods carry with the name of the revision they were made from. */
export const REVISION_LABEL = 'controller-revision-hash';

/**
 * What a revision records, as Kubernetes stores it: a strategic merge patch that puts the
 * template back whole (`$patch: replace`), which is what `kubectl rollout undo` applies.
 */
export function revisionData(owner: { spec?: { template?: PodTemplateSpec } }): Record<string, unknown> {
  return { spec: { template: { ...(owner.spec?.template ?? {}), $patch: 'replace' } } };
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

/** What keeps a revision history: a StatefulSet or a DaemonSet. */
export interface RevisionOwner {
  metadata?: ObjectMeta;
  spec?: { template?: PodTemplateSpec; selector?: LabelSelector };
}

/** A revision of that name exists with other data (or another owner): the owner's collisionCount must move on. */
export class RevisionCollision extends Error {}

/**
 * The revision of the owner's current template, named OWNER-HASH: made when new, renumbered as
 * the newest when an old template comes back (a roll-back), as Kubernetes keeps them. `all` is the
 * owner's revisions, oldest first; the answer's `all` includes the update revision.
 */
export async function ensureRevision(client: KubeClient, owner: RevisionOwner, kind: 'StatefulSet' | 'DaemonSet', all: ControllerRevision[], hash: string): Promise<{ update: ControllerRevision; all: ControllerRevision[] }> {
  const ns = owner.metadata?.namespace ?? '';
  const newest = all.length ? all[all.length - 1].revision : 0;
  const data = revisionData(owner);
  let update = all.find((r) => sameData(r.data, data));
  if (update && update.revision !== newest) {
    update = await client.patch<ControllerRevision>(apps('controllerrevisions', ns, update.metadata?.name), 'merge', { revision: newest + 1 });
  } else if (!update) {
    const revision: ControllerRevision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      // The owner's selector labels, so kubectl rollout history finds the revisions by selector.
      metadata: { name: `${owner.metadata?.name}-${hash}`, namespace: ns, labels: { ...(owner.spec?.selector?.matchLabels ?? {}), [REVISION_LABEL]: hash }, ownerReferences: [newControllerRef(owner, 'apps/v1', kind)] },
      data,
      revision: newest + 1,
    };
    try {
      update = await client.create<ControllerRevision>(apps('controllerrevisions', ns), revision);
    } catch (err) {
      if (!ApiError.isAlreadyExists(err)) throw err;
      // Made by an earlier pass the informer has not shown yet, or a real collision.
      const existing = await client.get<ControllerRevision>(apps('controllerrevisions', ns, revision.metadata?.name));
      if (!sameData(existing.data, data) || controllerRef(existing)?.uid !== owner.metadata?.uid) throw new RevisionCollision(`revision ${revision.metadata?.name} exists with other data`);
      update = existing;
    }
  }
  const found = update as ControllerRevision;
  return { update: found, all: all.some((r) => r.metadata?.name === found.metadata?.name) ? all : [...all, found] };
}

/** Deletes the oldest revisions beyond `limit`, never one in `keep` (current, update, what live pods run). */
export async function trimRevisions(client: KubeClient, all: ControllerRevision[], keep: Set<string | undefined>, limit: number): Promise<void> {
  const old = all.filter((r) => !keep.has(r.metadata?.name));
  for (const r of old.slice(0, Math.max(0, old.length - limit))) {
    await deleteObject(client, apps('controllerrevisions', r.metadata?.namespace, r.metadata?.name)).catch((err: unknown) => {
      if (!ApiError.isNotFound(err)) throw err;
    });
  }
}
