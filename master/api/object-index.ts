import type { Requirement, Selector } from '../../kube/label-selector';
import { FieldSelector } from './field-selector';

type StoredObject = Record<string, unknown>;

/**
 * The fields a field selector may be answered from the index for, per kind, besides
 * metadata.name (client-go's single-object ListWatch, `kubectl wait`). spec.nodeName is what each
 * agent lists its pods by, the index kube-apiserver's watch cache keeps for pods too.
 */
const INDEXED_FIELDS: Record<string, string[]> = { Pod: ['spec.nodeName'] };

/**
 * Which keys carry a label value (or an indexed field's value), so that a selective list visits
 * the objects it returns instead of every object of the resource. It narrows; the caller still
 * matches the whole selector against each candidate.
 */
export class ObjectIndex {
  private readonly keysByTerm = new Map<string, Set<string>>();
  private readonly termsByKey = new Map<string, string[]>();
  private readonly fields: string[];

  constructor(kind: string) {
    this.fields = ['metadata.name', ...(INDEXED_FIELDS[kind] ?? [])];
  }

  /** Records the object now at key (undefined: the key was deleted). */
  put(key: string, value: StoredObject | undefined): void {
    for (const term of this.termsByKey.get(key) ?? []) {
      const keys = this.keysByTerm.get(term);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByTerm.delete(term);
    }
    if (!value) {
      this.termsByKey.delete(key);
      return;
    }
    const terms = this.termsOf(value);
    this.termsByKey.set(key, terms);
    for (const term of terms) {
      let keys = this.keysByTerm.get(term);
      if (!keys) this.keysByTerm.set(term, (keys = new Set()));
      keys.add(key);
    }
  }

  clear(): void {
    this.keysByTerm.clear();
    this.termsByKey.clear();
  }

  /**
   * The smallest set of keys that holds every object the selectors can match, or undefined when
   * no requirement can be looked up (only !=, notin or !key): then every object is a candidate.
   */
  candidates(labels: Selector | undefined, fields: FieldSelector | undefined): ReadonlySet<string> | undefined {
    let best: ReadonlySet<string> | undefined;
    const consider = (keys: ReadonlySet<string>): void => {
      if (!best || keys.size < best.size) best = keys;
    };
    for (const r of labels?.requirements ?? []) {
      const keys = this.labelKeys(r);
      if (keys) consider(keys);
    }
    for (const field of this.fields) {
      const value = fields?.exact(field);
      if (value !== undefined) consider(this.keysByTerm.get(fieldTerm(field, value)) ?? EMPTY);
    }
    return best;
  }

  private labelKeys(r: Requirement): ReadonlySet<string> | undefined {
    if (r.op === 'Exists') return this.keysByTerm.get(existsTerm(r.key)) ?? EMPTY;
    if (r.op !== 'In') return undefined;
    if (r.values.length === 1) return this.keysByTerm.get(labelTerm(r.key, r.values[0])) ?? EMPTY;
    const union = new Set<string>();
    for (const v of r.values) for (const key of this.keysByTerm.get(labelTerm(r.key, v)) ?? EMPTY) union.add(key);
    return union;
  }

  private termsOf(value: StoredObject): string[] {
    const terms: string[] = [];
    const labels = (value.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
    for (const [k, v] of Object.entries(labels)) terms.push(existsTerm(k), labelTerm(k, v));
    // Absent fields too: `spec.nodeName=` (pods not yet scheduled) must find them.
    for (const field of this.fields) terms.push(fieldTerm(field, FieldSelector.valueOf(value, field)));
    return terms;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

// NUL cannot occur in a label key, a label value or a field value the API accepts.
const existsTerm = (key: string): string => `l\0${key}`;
const labelTerm = (key: string, value: string): string => `l\0${key}\0${value}`;
const fieldTerm = (field: string, value: string): string => `f\0${field}\0${value}`;
