import type { LabelSelector } from 'kubernetes-types/meta/v1';

export type Labels = Record<string, string>;

export interface Requirement {
  key: string;
  op: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** A parsed selector: every requirement must hold (logical AND), as in Kubernetes. */
export class Selector {
  constructor(readonly requirements: Requirement[]) {}

  matches(labels: Labels | undefined): boolean {
    const l = labels ?? {};
    return this.requirements.every((r) => matchOne(r, l));
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  /** Parses the string syntax of `?labelSelector=` (`a=b,c!=d,e in (f,g),!h,i`). */
  static parse(text: string | undefined): Selector {
    if (!text || !text.trim()) return new Selector([]);
    return new Selector(splitTopLevel(text).map(parseRequirement));
  }

  /** Converts a LabelSelector object (matchLabels + matchExpressions). */
  static fromLabelSelector(sel: LabelSelector | undefined | null): Selector {
    if (!sel) return new Selector([]);
    const reqs: Requirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'In' as const, values: [v] }));
    for (const e of sel.matchExpressions ?? []) {
      if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) {
        throw new Error(`label selector operator "${e.operator}" is not one of In, NotIn, Exists, DoesNotExist`);
      }
      reqs.push({ key: e.key, op: e.operator as Requirement['op'], values: e.values ?? [] });
    }
    return new Selector(reqs);
  }

  /** Equality-only selector from a map (Service.spec.selector, ReplicaSet matchLabels). */
  static fromMap(map: Labels | undefined): Selector {
    return new Selector(Object.entries(map ?? {}).map(([key, v]) => ({ key, op: 'In' as const, values: [v] })));
  }

  toString(): string {
    return this.requirements
      .map((r) => {
        if (r.op === 'Exists') return r.key;
        if (r.op === 'DoesNotExist') return `!${r.key}`;
        if (r.op === 'In' && r.values.length === 1) return `${r.key}=${r.values[0]}`;
        return `${r.key} ${r.op === 'In' ? 'in' : 'notin'} (${r.values.join(',')})`;
      })
      .join(',');
  }
}

function matchOne(r: Requirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.op) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'In':
      return has && r.values.includes(labels[r.key]);
    case 'NotIn':
      return !has || !r.values.includes(labels[r.key]);
  }
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function parseRequirement(part: string): Requirement {
  const setMatch = /^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
  if (setMatch) {
    const values = setMatch[3].split(',').map((v) => v.trim()).filter((v) => v.length > 0);
    return { key: setMatch[1], op: setMatch[2] === 'in' ? 'In' : 'NotIn', values };
  }
  const neq = /^([^\s!=()]+)\s*!=\s*([^\s!=()]*)$/.exec(part);
  if (neq) return { key: neq[1], op: 'NotIn', values: [neq[2]] };
  const eq = /^([^\s!=()]+)\s*==?\s*([^\s!=()]*)$/.exec(part);
  if (eq) return { key: eq[1], op: 'In', values: [eq[2]] };
  const notExists = /^!\s*([^\s!=()]+)$/.exec(part);
  if (notExists) return { key: notExists[1], op: 'DoesNotExist', values: [] };
  if (/^[^\s!=()]+$/.test(part)) return { key: part, op: 'Exists', values: [] };
  throw new Error(`unable to parse requirement "${part}": expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`);
}
