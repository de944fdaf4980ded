import { errors } from './status';

interface FieldRequirement {
  path: string[];
  value: string;
  negate: boolean;
}

/**
 * `?fieldSelector=` with `=`, `==` and `!=` over dotted paths (spec.nodeName, status.phase,
 * involvedObject.name...). A missing field reads as the empty string, as in Kubernetes.
 */
export class FieldSelector {
  constructor(private readonly reqs: FieldRequirement[]) {}

  static parse(text: string | null | undefined): FieldSelector {
    if (!text) return new FieldSelector([]);
    const reqs = text.split(',').filter((p) => p.trim()).map((part) => {
      const m = /^\s*([A-Za-z0-9_.]+)\s*(!=|==|=)\s*(.*?)\s*$/.exec(part);
      if (!m) throw errors.badRequest(`invalid field selector "${part}": expected field=value, field==value or field!=value`);
      return { path: m[1].split('.'), value: m[3], negate: m[2] === '!=' };
    });
    return new FieldSelector(reqs);
  }

  /** The fields the selector reads, in dotted form. */
  fields(): string[] {
    return this.reqs.map((r) => r.path.join('.'));
  }

  isEmpty(): boolean {
    return this.reqs.length === 0;
  }

  matches(obj: Record<string, unknown>): boolean {
    return this.reqs.every((r) => (read(obj, r.path) === r.value) !== r.negate);
  }

  /** The value a selector compares for a dotted field ('' when absent), as `matches` reads it. */
  static valueOf(obj: Record<string, unknown>, field: string): string {
    return read(obj, field.split('.'));
  }

  /** The value required for a field, when the selector pins it (used to narrow store scans). */
  exact(field: string): string | undefined {
    return this.reqs.find((r) => !r.negate && r.path.join('.') === field)?.value;
  }
}

function read(obj: unknown, path: string[]): string {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}
