import type { PodTemplateSpec } from 'kubernetes-types/core/v1';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/**
 * JSON with sorted keys and without empty values, so two templates that mean the same thing
 * (one with `annotations: {}`, one without) compare and hash equal.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value)) ?? 'null';
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = normalize((value as Record<string, unknown>)[k]);
      if (v === undefined || v === null) continue;
      if (Array.isArray(v) && v.length === 0) continue;
      if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) continue;
      out[k] = v;
    }
    return out;
  }
  return value;
}

/** FNV-1a, 32 bit, as upstream hashes pod templates. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** The template without the hash label, so a ReplicaSet's template compares to its Deployment's. */
export function withoutHash(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH];
  return t;
}

/** The pod-template-hash label value: stable for a template, changed by collisionCount. */
export function podTemplateHash(template: PodTemplateSpec | undefined, collisionCount = 0): string {
  const text = canonicalJson(withoutHash(template)) + (collisionCount ? String(collisionCount) : '');
  // Upstream's SafeEncodeString over the decimal digits: no vowels, so no accidental words.
  return [...String(fnv32a(text))].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

export function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}
