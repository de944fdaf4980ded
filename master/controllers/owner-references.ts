import type { OwnerReference } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '../../kube/object';

export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((o) => o.controller === true);
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  return controllerRef(obj)?.uid === owner.metadata?.uid;
}

/** The reference a controller puts on what it creates: it controls it and blocks its foreground deletion. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Upstream's generateName suffix: 5 characters without vowels, so names never spell words. */
export function randomSuffix(length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return s;
}

/** base + "-" + suffix, with base cut so the name stays within 63 characters. */
export function generateName(base: string): string {
  return `${base.slice(0, 57)}-${randomSuffix()}`;
}
